package io.fulcrum.balancer.exchange;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.H2Backend;
import io.fulcrum.testing.H2cClient;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hedged requests end to end: a real balancer in front of a backend that answers only after
 * {@link #SLOW} and one that answers at once, real HTTP/1.1 clients over loopback. The first try of
 * a GET that went to the slow one is hedged to the fast one, whose answer the client gets; the slow
 * one's try is cancelled, its connection closed, and the access log and the meters say so.
 */
class HedgeTest {
    /** Far beyond the hedge delay: a client answered by the slow backend would have waited for it. */
    private static final Duration SLOW = Duration.ofSeconds(2);

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private ScriptedBackend slow;
    private ScriptedBackend fast;

    /** Round robin over the slow and the fast backend, the route {@code api} hedging as {@code hedge} says. */
    private Balancer balancer(String hedge, String budgetPercent) throws Exception {
        slow = fx.backend("slow").delay(SLOW);
        fast = fx.backend("fast");
        return fx.balancer(BalancerYaml.create().set("routing.policy", "round-robin").set("routing.slow-start", "0s")
                .set("retry.attempts", "1").set("retry.budget-percent", budgetPercent)
                .set("access-log", fx.accessLog().toString())
                .append("""
                        pools:
                          main:
                            backends:
                              - { id: slow, url: "http://127.0.0.1:%d" }
                              - { id: fast, url: "http://127.0.0.1:%d" }
                        routes:
                          - name: api
                            pool: main
                            hedge: %s
                        """.formatted(slow.port(), fast.port(), hedge)));
    }

    @Test
    void everyGetIsAnsweredByTheFastBackendAndTheSlowTryIsCancelled() throws Exception {
        Balancer balancer = balancer("{ delay: 50ms }", "100");
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(2).requests(20).run();
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(Map.of(200, 20), result.statuses(), result.summary());
        assertEquals(Map.of("fast", 20), result.servedBy(), result.summary());
        // Round robin sent the slow backend its share of first tries; each was hedged and lost.
        int atSlow = slow.requests();
        assertTrue(atSlow > 0, "round robin sent the slow backend nothing");
        // The losing try's connection was closed, never pooled mid-response.
        await().atMost(Fixtures.WAIT).until(() -> slow.closedConnections() == slow.connections());
        assertEquals(atSlow, slow.connections(), "one connection per cancelled try");
        await().atMost(Fixtures.WAIT).untilAsserted(() -> {
            String metrics = fx.adminGet(balancer, "/metrics");
            assertEquals(atSlow, hedges(metrics, "sent"), metrics);
            assertTrue(hedges(metrics, "won") >= 1 && hedges(metrics, "won") <= atSlow, metrics);
            assertEquals(0.0, hedges(metrics, "refused"), metrics);
        });
        List<JsonNode> lines = fx.accessLogLines(l -> assertEquals(20, l.size(), "access log lines"));
        int lost = 0;
        for (JsonNode line : lines) {
            assertEquals("fast", line.get("backend").asText(), line.toString());
            for (JsonNode t : line.get("tries")) {
                if (t.get("backend").asText().equals("slow")) {
                    assertEquals(Hedge.LOST, t.get("outcome").asText(), line.toString());
                    assertTrue(line.get("decision").asText().contains(" hedge="), line.toString());
                    lost++;
                }
            }
        }
        assertEquals(atSlow, lost, "every try at the slow backend is logged as lost");
        assertTrue(lines.stream().anyMatch(l -> l.get("decision").asText().contains("hedge=fast after=")
                && l.get("decision").asText().endsWith(" hedge-won")), "a decision notes the hedge that won");
    }

    @Test
    void anHttp2ClientsGetsAreHedgedToo() throws Exception {
        Balancer balancer = balancer("{ delay: 50ms }", "100");
        try (H2cClient client = H2cClient.connect(balancer.port())) {
            for (int i = 0; i < 4; i++) {
                FullHttpResponse response = client.get("/h2/" + i, Fixtures.WAIT);
                try {
                    assertEquals(200, response.status().code());
                    assertEquals("fast", response.headers().get(Fixtures.BACKEND_HEADER));
                } finally {
                    response.release();
                }
            }
        }
        assertTrue(slow.requests() > 0, "round robin sent the slow backend nothing");
        await().atMost(Fixtures.WAIT).until(() -> slow.closedConnections() == slow.connections());
    }

    @Test
    void overHttp2BackendsTheLosingStreamIsResetAndItsConnectionKept() throws Exception {
        H2Backend held = fx.closeAfter(H2Backend.h2c(100));
        H2Backend quick = fx.closeAfter(H2Backend.h2c(100));
        CountDownLatch never = new CountDownLatch(1);
        held.hold(never);
        try {
            Balancer balancer = fx.balancer(BalancerYaml.create().set("routing.policy", "round-robin")
                    .set("routing.slow-start", "0s").set("retry.attempts", "1")
                    .append("""
                            pools:
                              main:
                                protocol: h2c
                                backends:
                                  - { id: held, url: "http://127.0.0.1:%d" }
                                  - { id: quick, url: "http://127.0.0.1:%d" }
                            routes:
                              - name: api
                                pool: main
                                hedge: { delay: 50ms }
                            """.formatted(held.port(), quick.port())));
            HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(1).requests(10).run();
            Fixtures.assertNoFailures(result, balancer);
            assertEquals(Map.of("quick", 10), result.servedBy(), result.summary());
            assertTrue(held.streams() > 0, "round robin sent the held backend nothing");
            // Each losing try's stream was reset; the connection it shared with the others stayed.
            await().atMost(Fixtures.WAIT).until(() -> held.resetStreams() == held.streams());
            assertEquals(1, held.connections());
        } finally {
            never.countDown();
        }
    }

    @Test
    void aFirstTryThatFailsBeforeTheDelayIsRetriedNotHedged() throws Exception {
        // The delay leaves the 503 ample time to come first.
        Balancer balancer = balancer("{ delay: 1s }", "100");
        // The slow one now fails at once; the fast one answers after the hedge delay.
        slow.fault(ScriptedBackend.Fault.ERROR_5XX);
        fast.delay(Duration.ofSeconds(2));
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(1).requests(2).run();
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(Map.of("fast", 2), result.servedBy(), result.summary());
        List<JsonNode> lines = fx.accessLogLines(l -> assertEquals(2, l.size(), "access log lines"));
        for (JsonNode line : lines) {
            JsonNode tries = line.get("tries");
            if (tries.get(0).get("backend").asText().equals("slow")) {
                // The 503 was retried at the fast one; the retry's wait is no hedge's turn.
                assertEquals(2, tries.size(), line.toString());
                assertFalse(line.get("decision").asText().contains("hedge"), line.toString());
            }
        }
        String metrics = fx.adminGet(balancer, "/metrics");
        assertEquals(0.0, hedges(metrics, "refused"), metrics);
    }

    @Test
    void aPostIsNeverHedged() throws Exception {
        Balancer balancer = balancer("{ delay: 50ms }", "100");
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(1).requests(2)
                .script(seq -> new HttpLoad.Request("POST", "/items/" + seq, Map.of("Content-Type", "text/plain"),
                        ("body-" + seq).getBytes(StandardCharsets.UTF_8)))
                .run();
        Fixtures.assertNoFailures(result, balancer);
        // Round robin: one each, the slow one answered by the slow one after all.
        assertEquals(Map.of("fast", 1, "slow", 1), result.servedBy(), result.summary());
        String metrics = fx.adminGet(balancer, "/metrics");
        assertEquals(0.0, hedges(metrics, "sent"), metrics);
        assertEquals(0.0, hedges(metrics, "refused"), metrics);
    }

    @Test
    void withTheRetryBudgetSpentNoHedgeIsSent() throws Exception {
        // A budget of 0% allows no retry in progress: every hedge finds it spent.
        Balancer balancer = balancer("{ delay: 50ms }", "0");
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(1).requests(2).run();
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(Map.of("fast", 1, "slow", 1), result.servedBy(), result.summary());
        String metrics = fx.adminGet(balancer, "/metrics");
        assertEquals(0.0, hedges(metrics, "sent"), metrics);
        assertEquals(1.0, hedges(metrics, "refused"), metrics);
        assertEquals(1, fast.requests(), "the fast backend got only its own first try");
        List<JsonNode> lines = fx.accessLogLines(l -> assertEquals(2, l.size(), "access log lines"));
        for (JsonNode line : lines) {
            assertEquals(1, line.get("tries").size(), line.toString());
            assertFalse(line.get("decision").asText().contains("hedge"), line.toString());
        }
    }

    @Test
    void theObservedP95DelayHedgesOnceThePoolWasSeenFast() throws Exception {
        Balancer balancer = balancer("{ delay: p95, min-delay: 20ms }", "100");
        slow.delay(Duration.ZERO);
        // Both backends fast: the pool's p95 is learnt, and nothing is hedged while nothing is slow
        // (or a hedge's second try is sent now and then on a busy machine, and wins or loses).
        Fixtures.getsWithoutFailures(balancer, "/", 1, 2 * HeadLatencies.MIN_SAMPLES);
        double sentWhileFast = hedges(fx.adminGet(balancer, "/metrics"), "sent");
        slow.delay(SLOW);
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(1).requests(10).run();
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(Map.of("fast", 10), result.servedBy(), result.summary());
        String metrics = fx.adminGet(balancer, "/metrics");
        assertNotEquals(sentWhileFast, hedges(metrics, "sent"), metrics);
    }

    /** {@code fulcrum_hedge_requests_total} of route api, pool main and {@code result}; 0 when absent. */
    private static double hedges(String metrics, String result) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith("fulcrum_hedge_requests_total{") && line.contains("result=\"" + result + "\"")
                    && line.contains("pool=\"main\"") && line.contains("route=\"api\"")) {
                Matcher m = Pattern.compile(" ([0-9.eE+-]+)$").matcher(line);
                assertTrue(m.find(), line);
                return Double.parseDouble(m.group(1));
            }
        }
        return 0;
    }
}
