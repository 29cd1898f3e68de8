package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawBackend;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A backend answer that cannot be parsed is reported as what it is, not as a closed connection:
 * the client's 502 says "malformed backend response", the access log's try says {@code malformed}
 * and its error names what was wrong, and a retry after it is counted under that reason. It is
 * retried like a 502: only for a request safe to repeat.
 */
class MalformedResponseTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    static Stream<Arguments> malformedHeads() {
        return Stream.of(
                Arguments.of("garbage", "\u0016\u0003\u0001\u0000\u00a5 not HTTP at all\r\n\r\n", "invalid status line"),
                Arguments.of("invalid status line", "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok",
                        "status code is not three digits"),
                Arguments.of("control byte in a field value", "HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\nok",
                        "invalid header field value"),
                Arguments.of("field without a colon", "HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 2\r\n\r\nok",
                        "invalid header field name"),
                Arguments.of("bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "line not ended by CRLF"),
                Arguments.of("Content-Length not a number", "HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\nok",
                        "invalid Content-Length"),
                Arguments.of("conflicting Content-Length",
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk", "invalid Content-Length"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedHeads")
    void aResponseHeadThatCannotBeParsedIsA502ThatSaysSo(String name, String answer, String why) throws Exception {
        RawBackend backend = fx.closeAfter(RawBackend.start(answer, true));
        Balancer balancer = fx.balancer(BalancerYaml.create().set("retry.attempts", "0")
                .set("access-log", fx.accessLog().toString()).backend("b1", backend.port()));

        RawHttpClient.Response r = send(balancer, "GET /bad HTTP/1.1\r\nHost: a\r\n\r\n");

        assertEquals(502, r.status(), r.statusLine() + " " + r.bodyText());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("malformed backend response", body.get("error").asText(), r.bodyText());
        JsonNode line = logLine();
        assertEquals(502, line.get("status").asInt());
        assertEquals("malformed backend response: " + why, line.get("error").asText(), line.toString());
        assertEquals(1, line.get("tries").size(), line.toString());
        assertEquals("malformed", line.get("tries").get(0).get("outcome").asText(), line.toString());
    }

    /** A backend that answers with a malformed status line, a good one, and a balancer in front of both. */
    private record BadThenGood(RawBackend bad, ScriptedBackend good, Balancer balancer) {
    }

    /** {@code bad} then {@code good} in round-robin order, so a first try goes to {@code bad}; one retry. */
    private BadThenGood badThenGood() throws Exception {
        RawBackend bad = fx.closeAfter(RawBackend.start("HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok", true));
        ScriptedBackend good = fx.backend("good");
        return new BadThenGood(bad, good, fx.balancer(BalancerYaml.create().set("routing.policy", "round-robin")
                .set("retry.attempts", "1").set("retry.budget-percent", "100")
                .set("access-log", fx.accessLog().toString())
                .backend("bad", bad.port()).backend("good", good.port())));
    }

    @Test
    void aGetIsRetriedAfterAMalformedAnswerAndTheRetryIsCountedAsSuch() throws Exception {
        BadThenGood pair = badThenGood();
        Balancer balancer = pair.balancer();

        RawHttpClient.Response r = send(balancer, "GET /retried HTTP/1.1\r\nHost: a\r\n\r\n");

        assertEquals(200, r.status(), r.statusLine() + " " + r.bodyText());
        assertEquals(1, pair.bad().requests());
        JsonNode tries = logLine().get("tries");
        assertEquals(2, tries.size(), tries.toString());
        assertEquals("bad", tries.get(0).get("backend").asText());
        assertEquals("malformed", tries.get(0).get("outcome").asText());
        assertEquals("success", tries.get(1).get("outcome").asText());
        String metrics = fx.adminGet(balancer, "/metrics");
        assertEquals(1.0, sample(metrics, "fulcrum_retries_total{reason=\"malformed\"}"), metrics);
        assertEquals(0.0, sample(metrics, "fulcrum_retries_total{reason=\"reset\"}"), metrics);
    }

    @Test
    void aPostWithoutIdempotencyKeyIsNotRetriedAfterAMalformedAnswer() throws Exception {
        BadThenGood pair = badThenGood();

        RawHttpClient.Response r = send(pair.balancer(), "POST /once HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");

        assertEquals(502, r.status(), r.statusLine() + " " + r.bodyText());
        assertEquals("malformed backend response", JSON.readTree(r.body()).get("error").asText());
        assertEquals(0, pair.good().requests(), "the backend may have acted on it: not sent again");
    }

    @Test
    void aBodyWhoseFramingBreaksCutsTheResponseAndIsLoggedAsMalformed() throws Exception {
        RawBackend backend = fx.closeAfter(RawBackend.start(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n", false));
        Balancer balancer = fx.balancer(BalancerYaml.create().set("retry.attempts", "0")
                .set("access-log", fx.accessLog().toString()).backend("b1", backend.port()));

        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
            client.send("GET /cut HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThrows(RawHttpClient.TruncatedResponseException.class, client::readResponse,
                    "the head went out; the broken body ends in a close, short of the last chunk");
        }
        JsonNode line = logLine();
        assertEquals("aborted", line.get("outcome").asText(), line.toString());
        assertEquals("malformed", line.get("tries").get(0).get("outcome").asText(), line.toString());
    }

    private static RawHttpClient.Response send(Balancer balancer, String request) throws IOException {
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
            return client.send(request).readResponse();
        }
    }

    /** The access log's one line, once written. */
    private JsonNode logLine() {
        return fx.accessLogLines(lines -> assertEquals(1, lines.size(), "access log lines")).get(0);
    }

    /** The value of the sample with exactly these labels, or {@code null}. */
    private static Double sample(String text, String nameAndLabels) {
        Matcher m = Pattern.compile("^" + Pattern.quote(nameAndLabels) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        return m.find() ? Double.valueOf(m.group(1)) : null;
    }
}
