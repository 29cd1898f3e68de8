package io.fulcrum.balancer.edge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The configured limits over real sockets: header and request-line size, body size (declared and
 * chunked) and the number of client connections.
 */
class LimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 64 * 1024;

    @RegisterExtension
    final Fixtures fx = new Fixtures(1);
    private ScriptedBackend backend;
    private Balancer balancer;

    @BeforeEach
    void start() throws Exception {
        backend = fx.closeAfter(ScriptedBackend.echo("only"));
        balancer = fx.balancer(BalancerYaml.forProxy().backend(backend.port())
                .set("limits.max-header-bytes", 4096).set("limits.max-uri-bytes", 1024)
                .set("limits.max-body-bytes", MAX_BODY).set("limits.max-connections", 3));
    }

    private RawHttpClient raw() throws IOException {
        return RawHttpClient.connect(balancer.port(), 5000);
    }

    private void assertErrorAndClose(RawHttpClient c, int status) throws IOException {
        RawHttpClient.Response r = c.readResponse();
        assertEquals(status, r.status(), r.bodyText());
        JsonNode json = JSON.readTree(r.body());
        assertTrue(json.hasNonNull("error"), r.bodyText());
        assertEquals(r.header("x-request-id"), json.get("requestId").asText());
        assertTrue(c.isClosedByPeer());
    }

    /** A request past one limit, and the status it gets. */
    static Stream<Arguments> aRequestPastALimitIsRefusedAndReachesNoBackend() {
        StringBuilder manySmall = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < 200; i++) {
            manySmall.append("X-H").append(i).append(": ").append("v".repeat(20)).append("\r\n");
        }
        return Stream.of(
                Arguments.of("headers past the limit",
                        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "v".repeat(5000) + "\r\n\r\n", 431),
                Arguments.of("many small headers past the limit", manySmall.append("\r\n").toString(), 431),
                Arguments.of("a URI too long", "GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414),
                Arguments.of("a declared body too large",
                        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + (MAX_BODY + 1) + "\r\n\r\nabc", 413));
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource
    void aRequestPastALimitIsRefusedAndReachesNoBackend(String what, String request, int status) throws Exception {
        try (RawHttpClient c = raw()) {
            c.send(request);
            assertErrorAndClose(c, status);
        }
        assertEquals(0, backend.requests());
    }

    @Test
    void acceptsABodyOfExactlyTheLimit() throws Exception {
        try (RawHttpClient c = raw()) {
            c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + MAX_BODY + "\r\n\r\n" + "x".repeat(MAX_BODY));
            RawHttpClient.Response r = c.readResponse();
            assertEquals(200, r.status());
            assertEquals(MAX_BODY, JSON.readTree(r.body()).get("bodyLength").asInt());
        }
    }

    @Test
    void returns413WhenAChunkedBodyGrowsPastTheLimit() throws Exception {
        StringBuilder req = new StringBuilder("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        String chunk = "y".repeat(8192);
        for (int i = 0; i < MAX_BODY / 8192 + 2; i++) {
            req.append("2000\r\n").append(chunk).append("\r\n");
        }
        req.append("0\r\n\r\n");
        try (RawHttpClient c = raw()) {
            c.send(req.toString());
            assertErrorAndClose(c, 413);
        }
        // The head may have been streamed already: then its connection must close, so the backend
        // never sees a complete request. A connection the pool had opened for it and never used
        // (the body grew past the limit before it was made) may stay open in the pool.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(
                () -> assertTrue(backend.closedConnections() >= backend.requests(),
                        backend.requests() + " request heads, " + backend.closedConnections() + " connections closed"));
        assertEquals(0, backend.answered());
    }

    @Test
    void refusesConnectionsPastMaxConnectionsPromptly() throws Exception {
        RawHttpClient[] open = new RawHttpClient[3];
        try {
            for (int i = 0; i < open.length; i++) {
                open[i] = raw();
                assertEquals(200, open[i].send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
            }
            try (RawHttpClient extra = raw()) {
                RawHttpClient.Response r = extra.readResponse();
                assertEquals(503, r.status());
                assertTrue(extra.isClosedByPeer());
            }
            int served = backend.requests();
            assertEquals(3, served);
            open[0].close();
            // Once a slot is free, a new connection is served again.
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (RawHttpClient again = raw()) {
                    assertEquals(200, again.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
                }
            });
        } finally {
            for (RawHttpClient c : open) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
