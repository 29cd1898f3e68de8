package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.H2cClient;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.ScriptedBackend.Fault;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code timeouts.response} is the whole deadline of a request, shared by its tries, with or
 * without {@code retry.per-try-timeout}. The backends here answer only after a minute (or never),
 * so a client that gets its 504 within {@link Fixtures#WAIT} got it from the balancer's deadline,
 * not from a backend; the access log says how each try ended.
 */
class ResponseDeadlineTest {
    private static final int CLIENT_PATIENCE_MILLIS = 2500;
    /** Longer than any test waits: a backend this slow has answered nothing while the test ran. */
    private static final Duration BACKEND_DELAY = Duration.ofSeconds(60);

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void theClientGetsIts504WithinTheResponseTimeoutNotOnePerTry() throws Exception {
        // With a 1 s response timeout, four backends that never answer and three retries allowed,
        // the client has its 504 well before four tries of 1 s each could have ended: its read gives
        // up after 2.5 s, which a deadline kept per try (4 s) would overrun.
        BalancerYaml yaml = BalancerYaml.create().set("timeouts.response", "1s").set("retry.attempts", "3")
                .set("retry.budget-percent", "100");
        for (int i = 1; i <= 4; i++) {
            ScriptedBackend b = fx.backend("b" + i).fault(Fault.HANG);
            yaml.backend("b" + i, b.port());
        }
        Balancer balancer = fx.balancer(yaml);

        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), CLIENT_PATIENCE_MILLIS)) {
            client.send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            RawHttpClient.Response response;
            try {
                response = client.readResponse();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no answer within " + CLIENT_PATIENCE_MILLIS
                        + " ms: the 1 s response timeout was not shared by the tries", e);
            }
            assertEquals(504, response.status(), response.statusLine() + " " + response.bodyText());
        }
    }

    @Test
    void triesCutShortByThePerTryTimeoutStillEndAtTheResponseTimeout() throws Exception {
        // 700 ms per try within 2 s: tries at about 0, 0.7 and 1.4 s, and the last one's own
        // deadline (2.1 s) falls after the client's. Six backends and five retries allowed: only
        // the response timeout can end this request.
        Balancer balancer = fx.balancer(slowBackends(6).set("timeouts.response", "2s")
                .set("retry.per-try-timeout", "700ms").set("retry.attempts", "5"));

        RawHttpClient.Response response = get(balancer, "/deadline");

        assertEquals(504, response.status(), response.statusLine() + " " + response.bodyText());
        assertTrue(response.bodyText().contains("backend response timed out"), response.bodyText());
        JsonNode line = logLine();
        assertEquals(504, line.get("status").asInt());
        JsonNode tries = line.get("tries");
        assertTrue(tries.size() >= 2 && tries.size() < 6,
                "retried after a per-try timeout, then ended by the response timeout: " + line);
        assertAllTimedOut(tries, line);
    }

    /**
     * Whichever of the response timeout and the retries runs out first ends a GET to three slow
     * backends with two retries allowed; the access log counts the tries.
     */
    @ParameterizedTest(name = "{4}")
    @CsvSource(delimiter = '|', value = {
        "1s  | 30s   | 1 | no time is left for a retry | a per-try timeout longer than the response timeout leaves the response timeout in charge",
        "30s | 300ms | 3 | the first try and both retries | when the retries run out first the last try timing out answers the client",
    })
    void theFirstDeadlineToComeEndsTheRequest(String responseTimeout, String perTryTimeout, int tries, String why,
            String what) throws Exception {
        Balancer balancer = fx.balancer(slowBackends(3).set("timeouts.response", responseTimeout)
                .set("retry.per-try-timeout", perTryTimeout).set("retry.attempts", "2"));

        RawHttpClient.Response response = get(balancer, "/deadline");

        assertEquals(504, response.status(), response.statusLine() + " " + response.bodyText());
        JsonNode line = logLine();
        assertEquals(tries, line.get("tries").size(), why + ": " + line);
        assertAllTimedOut(line.get("tries"), line);
    }

    @Test
    void aPostThatCannotBeRetriedGetsIts504WhenItsOnlyTryTimesOut() throws Exception {
        // Not repeatable: the per-try timeout ends the request at once, whatever time is left.
        Balancer balancer = fx.balancer(slowBackends(2).set("timeouts.response", "30s")
                .set("retry.per-try-timeout", "300ms").set("retry.attempts", "2"));

        RawHttpClient.Response response;
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
            response = client.send("POST /deadline HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi")
                    .readResponse();
        }

        assertEquals(504, response.status(), response.statusLine() + " " + response.bodyText());
        JsonNode line = logLine();
        assertEquals(1, line.get("tries").size(), line.toString());
        assertAllTimedOut(line.get("tries"), line);
    }

    @Test
    void overHttp2TriesCutShortByThePerTryTimeoutStillEndAtTheResponseTimeout() throws Exception {
        Balancer balancer = fx.balancer(slowBackends(6).set("timeouts.response", "2s")
                .set("retry.per-try-timeout", "700ms").set("retry.attempts", "5"));

        FullHttpResponse response = h2cGet(balancer.port(), "/deadline");
        try {
            assertEquals(504, response.status().code(), response.content().toString(StandardCharsets.UTF_8));
        } finally {
            ReferenceCountUtil.release(response);
        }
        JsonNode line = logLine();
        assertEquals("HTTP/2.0", line.get("protocol").asText(), line.toString());
        JsonNode tries = line.get("tries");
        assertTrue(tries.size() >= 2 && tries.size() < 6, line.toString());
        assertAllTimedOut(tries, line);
    }

    /** {@code n} backends that answer only after {@link #BACKEND_DELAY}, access log in a file. */
    private BalancerYaml slowBackends(int n) throws InterruptedException {
        BalancerYaml yaml = BalancerYaml.create().set("retry.budget-percent", "100")
                .set("access-log", fx.accessLog().toString());
        for (int i = 1; i <= n; i++) {
            ScriptedBackend b = fx.backend("b" + i).delay(BACKEND_DELAY);
            yaml.backend("b" + i, b.port());
        }
        return yaml;
    }

    /** A GET on a new connection; the client waits far less than the backends take. */
    private static RawHttpClient.Response get(Balancer balancer, String path) throws IOException {
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
            client.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            try {
                return client.readResponse();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no answer within " + Fixtures.WAIT + ": the response timeout was lost", e);
            }
        }
    }

    /** A GET over HTTP/2 with prior knowledge on the cleartext port; its aggregated response. */
    private static FullHttpResponse h2cGet(int port, String path) throws Exception {
        try (H2cClient client = H2cClient.connect(port)) {
            return client.get(path, Fixtures.WAIT);
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within " + Fixtures.WAIT + ": the response timeout was lost", e);
        }
    }

    /** The access log's one line, once written. */
    private JsonNode logLine() {
        return fx.accessLogLines(lines -> assertEquals(1, lines.size(), "access log lines")).get(0);
    }

    private static void assertAllTimedOut(JsonNode tries, JsonNode line) {
        for (JsonNode t : tries) {
            assertEquals("timeout", t.get("outcome").asText(), line.toString());
        }
    }
}
