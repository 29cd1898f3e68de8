package io.fulcrum.balancer.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.testing.EchoBalancer;
import io.fulcrum.testing.RawHttpClient;
import java.io.IOException;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests whose framing or syntax a proxy must not trust (RFC 9112 sections 2.2, 3, 5, 6 and
 * 11.2; RFC 9110 section 5.5): each is answered with an error, the connection is closed, and
 * nothing of it reaches the backend. Raw sockets, since ordinary clients refuse to send these.
 */
class RequestSmugglingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final EchoBalancer balancer = new EchoBalancer();

    /** What a test says and reads on one connection of its own. */
    @FunctionalInterface
    interface Conversation {
        void on(RawHttpClient c) throws IOException;
    }

    /** Holds {@code conversation} on a new connection and returns how many requests reached the backend meanwhile. */
    private static int forwardedDuring(Conversation conversation) throws IOException {
        int before = balancer.backend().requests();
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 5000)) {
            conversation.on(c);
        }
        return balancer.backend().requests() - before;
    }

    static Stream<Arguments> badRequests() {
        Set<Integer> bad = Set.of(400);
        Set<Integer> version = Set.of(400, 505);
        return Stream.of(
                arguments("Content-Length with Transfer-Encoding",
                        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", bad),
                arguments("Transfer-Encoding with Content-Length",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                                + "0\r\n\r\n", bad),
                arguments("two differing Content-Lengths",
                        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", bad),
                arguments("a Content-Length list with differing values",
                        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", bad),
                arguments("a non-numeric Content-Length",
                        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", bad),
                arguments("Transfer-Encoding gzip",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc", bad),
                arguments("Transfer-Encoding chunked, gzip",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", bad),
                arguments("Transfer-Encoding xchunked",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", bad),
                arguments("Transfer-Encoding chunked twice",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "0\r\n\r\n", bad),
                arguments("Transfer-Encoding in HTTP/1.0",
                        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", bad),
                arguments("an invalid chunk size",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", bad),
                arguments("a negative chunk size",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", bad),
                arguments("obs-fold",
                        "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", bad),
                arguments("obs-fold with a tab",
                        "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n\ttwo\r\n\r\n", bad),
                arguments("whitespace before the colon",
                        "GET / HTTP/1.1\r\nHost: a\r\nX-Name : v\r\n\r\n", bad),
                arguments("whitespace before the colon of Content-Length",
                        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", bad),
                arguments("a control character in a header value",
                        "GET / HTTP/1.1\r\nHost: a\r\nX-Ctl: a\u0001b\r\n\r\n", bad),
                arguments("NUL in a header value",
                        "GET / HTTP/1.1\r\nHost: a\r\nX-Ctl: a\u0000b\r\n\r\n", bad),
                arguments("an invalid header name",
                        "GET / HTTP/1.1\r\nHost: a\r\nX(Bad): v\r\n\r\n", bad),
                arguments("bare LF line endings",
                        "GET / HTTP/1.1\nHost: a\n\n", bad),
                arguments("a bare CR in a header line",
                        "GET / HTTP/1.1\r\nHost: a\rX-Injected: 1\r\n\r\n", bad),
                arguments("HTTP/1.1 without Host",
                        "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", bad),
                arguments("two Host headers",
                        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", bad),
                arguments("an invalid Host",
                        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", bad),
                arguments("HTTP/2.0 in an HTTP/1 request line",
                        "GET / HTTP/2.0\r\nHost: a\r\n\r\n", version),
                arguments("HTTP/1.2",
                        "GET / HTTP/1.2\r\nHost: a\r\n\r\n", version),
                arguments("a malformed request line",
                        "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", bad));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void rejectsAndClosesWithoutForwarding(String name, String request, Set<Integer> statuses) throws Exception {
        assertEquals(0, forwardedDuring(c -> {
            c.send(request);
            RawHttpClient.Response r = c.readResponse();
            assertTrue(statuses.contains(r.status()), name + ": got " + r.statusLine() + " " + r.bodyText());
            JsonNode error = JSON.readTree(r.body());
            assertTrue(error.hasNonNull("error"), r.bodyText());
            assertTrue(c.isClosedByPeer(), name + ": the connection must be closed");
        }), name + " reached the backend");
        // A good request afterwards still works: the balancer is unharmed.
        assertEquals(1, forwardedDuring(c -> assertEquals(200,
                c.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status())));
    }

    @Test
    void aSmuggledSecondRequestIsNeverForwarded() throws IOException {
        assertEquals(0, forwardedDuring(c -> {
            c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(400, c.readResponse().status());
            assertTrue(c.isClosedByPeer());
        }));
        assertTrue(balancer.backend().received().stream().noneMatch(r -> r.uri().startsWith("/admin")));
    }

    @Test
    void bodiesWithLineBreaksFollowedByWhitespaceAreNotMistakenForFolding() throws IOException {
        String body = "line\r\n  indented\r\n\ttabbed\r\n";
        assertEquals(3, forwardedDuring(c -> {
            c.send("POST /cl HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                    + "POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\nX-Trailer: t\r\n\r\n"
                    + "GET /last HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(body.length(), JSON.readTree(c.readResponse().body()).get("bodyLength").asInt());
            assertEquals(body.length(), JSON.readTree(c.readResponse().body()).get("bodyLength").asInt());
            assertEquals("/last", JSON.readTree(c.readResponse().body()).get("uri").asText());
        }));
    }

    @Test
    void aFoldedHeaderInAPipelinedRequestAfterABodyIsRejectedInOrder() throws IOException {
        assertEquals(1, forwardedDuring(c -> {
            c.send("POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n\r\n x"
                    + "GET /second HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n");
            RawHttpClient.Response first = c.readResponse();
            assertEquals(200, first.status());
            assertEquals("/first", JSON.readTree(first.body()).get("uri").asText());
            assertEquals(400, c.readResponse().status());
            assertTrue(c.isClosedByPeer());
        }));
    }
}
