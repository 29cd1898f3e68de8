package io.fulcrum.balancer.balancing.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.metrics.BalancerMetrics;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpBurst;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admission queue over real sockets: a burst far larger than the backends' max-in-flight is
 * queued and served, over HTTP/1.1 connections and HTTP/2 streams alike, without a backend ever
 * holding more than its limit; a wait that runs out and a full queue give 503 with Retry-After
 * and are counted; a client that leaves while queued is forgotten; and a reload that brings room
 * serves the waiters at once.
 */
class AdmissionQueueE2eTest {
    /** Three event loops: slots are freed on one loop and handed to waiters on another. */
    @RegisterExtension
    final Fixtures fx = new Fixtures(3);

    private static final Duration BURST_WAIT = Duration.ofSeconds(60);

    private static BalancerYaml twoSmallBackends(ScriptedBackend a, ScriptedBackend b, int maxInFlight) {
        return BalancerYaml.create()
                .backend(new BalancerYaml.Backend("a", "127.0.0.1", a.port(), "local", 1, maxInFlight))
                .backend(new BalancerYaml.Backend("b", "127.0.0.1", b.port(), "local", 1, maxInFlight))
                .set("timeouts.response", "60s")
                // Long enough that nothing of the burst times out on a slow machine: the test is about
                // room in the queue, not about its clock.
                .set("timeouts.queue", "60s");
    }

    private static double refused(Balancer balancer, String reason) {
        MeterRegistry r = balancer.meterRegistry();
        return r.get(BalancerMetrics.QUEUE_REFUSED).tag(BalancerMetrics.TAG_POOL, "default")
                .tag(BalancerMetrics.TAG_REASON, reason).functionCounter().count();
    }

    private static long waits(Balancer balancer) {
        return balancer.meterRegistry().get(BalancerMetrics.QUEUE_WAIT).tag(BalancerMetrics.TAG_POOL, "default")
                .timer().count();
    }

    private static double queueLength(Balancer balancer) {
        return balancer.meterRegistry().get(BalancerMetrics.QUEUE_LENGTH).tag(BalancerMetrics.TAG_POOL, "default")
                .gauge().value();
    }

    @Test
    void aBurstOfThousandsOfConnectionsIsQueuedAndEveryRequestServed() throws Exception {
        ScriptedBackend a = fx.backend("a").delay(Duration.ofMillis(2));
        ScriptedBackend b = fx.backend("b").delay(Duration.ofMillis(2));
        Balancer balancer = fx.balancer(twoSmallBackends(a, b, 4));
        int n = 5000;

        HttpBurst.Result result;
        try (HttpBurst burst = new HttpBurst()) {
            result = burst.http1(balancer.port(), "/burst", n, BURST_WAIT);
        }

        assertEquals(Map.of(200, n), result.statuses(), () -> "not served: " + result.other(200));
        assertTrue(a.maxHolding() <= 4 && b.maxHolding() <= 4,
                "no backend held more than its max-in-flight: " + a.maxHolding() + ", " + b.maxHolding());
        assertEquals(n, a.requests() + b.requests());
        assertTrue(waits(balancer) > 0, "requests waited in the queue");
        assertEquals(0.0, refused(balancer, "timeout"));
        assertEquals(0.0, refused(balancer, "full"));
        assertEquals(0.0, queueLength(balancer));
    }

    @Test
    void http2StreamsQueueLikeHttp11Requests() throws Exception {
        ScriptedBackend a = fx.backend("a").delay(Duration.ofMillis(2));
        ScriptedBackend b = fx.backend("b").delay(Duration.ofMillis(2));
        Balancer balancer = fx.balancer(twoSmallBackends(a, b, 2).set("http2.max-concurrent-streams", "1000"));
        int n = 600;

        HttpBurst.Result result;
        try (HttpBurst burst = new HttpBurst()) {
            result = burst.h2c(balancer.port(), "/streams", n, BURST_WAIT);
        }

        assertEquals(Map.of(200, n), result.statuses(), () -> "not served: " + result.other(200));
        assertTrue(a.maxHolding() <= 2 && b.maxHolding() <= 2, a.maxHolding() + ", " + b.maxHolding());
        assertTrue(waits(balancer) > 0, "streams waited in the queue");
        assertEquals(0.0, refused(balancer, "timeout") + refused(balancer, "full"));
    }

    /** Backend a holding the one request it has room for, the balancer in front of it, and that request. */
    private record HeldFull(ScriptedBackend a, Balancer balancer, CompletableFuture<RawHttpClient.Response> first) {
        /** Lets a answer what it holds and what comes after; the first request gets its 200. */
        void release() throws Exception {
            a.hold(false);
            a.release();
            assertEquals(200, first.get(30, TimeUnit.SECONDS).status());
        }
    }

    /**
     * Starts backend a with room for one request and a balancer from {@code yaml} in front of it,
     * and sends a first request that a holds, so that every further request waits.
     */
    private HeldFull heldFull(BalancerYaml yaml) throws Exception {
        ScriptedBackend a = fx.backend("a").hold(true);
        Balancer balancer = fx.balancer(yaml.backend(BalancerYaml.Backend.of(a, "local", 1, 1)));
        CompletableFuture<RawHttpClient.Response> first = getAsync(balancer, "/first");
        await().atMost(Fixtures.WAIT).until(() -> a.holding() == 1);
        return new HeldFull(a, balancer, first);
    }

    /** {@link #heldFull(BalancerYaml)} with this queue, telling its decisions on request. */
    private HeldFull heldFull(String queueTimeout, int maxQueue) throws Exception {
        return heldFull(BalancerYaml.create()
                .set("timeouts.response", "30s").set("timeouts.queue", queueTimeout)
                .set("limits.max-queue", maxQueue)
                .merge("decision-header: { request: X-Fulcrum-Debug }"));
    }

    private CompletableFuture<RawHttpClient.Response> getAsync(Balancer balancer, String path) {
        return CompletableFuture.supplyAsync(() -> {
            try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 30_000)) {
                return c.get(path);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static RawHttpClient.Response debugGet(RawHttpClient c, String path) throws Exception {
        c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Fulcrum-Debug: 1\r\n\r\n");
        return c.readResponse();
    }

    @Test
    void aWaitThatRunsOutGets503WithRetryAfterAndIsCounted() throws Exception {
        HeldFull held = heldFull("300ms", 100);
        Balancer balancer = held.balancer();

        RawHttpClient.Response late;
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 30_000)) {
            late = debugGet(c, "/late");
        }

        assertEquals(503, late.status());
        assertNotNull(late.header("Retry-After"), "a queue timeout says when to come back");
        assertTrue(late.bodyText().contains("queue timeout"), late.bodyText());
        String decision = late.header("X-Fulcrum-Decision");
        assertNotNull(decision);
        assertTrue(decision.contains(" queued=") && decision.contains(" queue=timeout"), decision);
        assertEquals(1.0, refused(balancer, "timeout"));
        assertEquals(0.0, refused(balancer, "full"));
        assertEquals(1, waits(balancer));
        assertEquals(1, held.a().requests(), "the request that timed out reached no backend");
        assertFalse(held.first().isDone());

        held.release();
    }

    @Test
    void aFullQueueRefusesAtOnceWith503AndTheWaiterIsServedWhenASlotFrees() throws Exception {
        HeldFull held = heldFull("30s", 1);
        Balancer balancer = held.balancer();
        CompletableFuture<RawHttpClient.Response> waiting = getAsync(balancer, "/waiting");
        await().atMost(Fixtures.WAIT).until(() -> queueLength(balancer) == 1.0);

        RawHttpClient.Response refused;
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 30_000)) {
            refused = debugGet(c, "/refused");
        }

        assertEquals(503, refused.status());
        assertNotNull(refused.header("Retry-After"));
        assertTrue(refused.bodyText().contains("queue full"), refused.bodyText());
        assertTrue(refused.header("X-Fulcrum-Decision").contains(" queue=full"), refused.header("X-Fulcrum-Decision"));
        assertEquals(1.0, refused(balancer, "full"));
        assertFalse(waiting.isDone(), "the waiter still waits");

        held.release();
        RawHttpClient.Response served = waiting.get(30, TimeUnit.SECONDS);
        assertEquals(200, served.status(), served.bodyText());
        assertEquals(2, held.a().requests());
        assertEquals(0.0, refused(balancer, "timeout"));
    }

    @Test
    void aClientThatLeavesTheQueueIsForgottenAndItsTurnPassesOn() throws Exception {
        HeldFull held = heldFull("30s", 100);
        Balancer balancer = held.balancer();
        try (RawHttpClient gone = RawHttpClient.connect(balancer.port(), 30_000)) {
            gone.send("GET /gone HTTP/1.1\r\nHost: x\r\n\r\n");
            await().atMost(Fixtures.WAIT).until(() -> queueLength(balancer) == 1.0);
        }
        await().atMost(Fixtures.WAIT).until(() -> queueLength(balancer) == 0.0);
        CompletableFuture<RawHttpClient.Response> next = getAsync(balancer, "/next");
        await().atMost(Fixtures.WAIT).until(() -> queueLength(balancer) == 1.0);

        held.release();

        assertEquals(200, next.get(30, TimeUnit.SECONDS).status());
        assertEquals(2, held.a().requests(), "the request whose client left never reached the backend");
        assertEquals(0.0, refused(balancer, "timeout"));
    }

    @Test
    void aReloadThatBringsRoomServesTheWaitersAtOnce() throws Exception {
        BalancerYaml yaml = BalancerYaml.create().set("timeouts.response", "30s").set("timeouts.queue", "30s");
        HeldFull held = heldFull(yaml);
        ScriptedBackend a = held.a();
        Balancer balancer = held.balancer();
        CompletableFuture<RawHttpClient.Response> second = getAsync(balancer, "/second");
        await().atMost(Fixtures.WAIT).until(() -> queueLength(balancer) == 1.0);

        // No request ends; the new snapshot's room alone must wake the waiter.
        fx.reload(yaml.clearBackends()
                .backend(new BalancerYaml.Backend("a", "127.0.0.1", a.port(), "local", 1, 2)));

        await().atMost(Fixtures.WAIT).until(() -> a.holding() == 2);
        assertEquals(0.0, queueLength(balancer));
        held.release();
        assertEquals(200, second.get(30, TimeUnit.SECONDS).status());
    }

    @Test
    void aWaiterWhosePoolARemovesReloadIsStillServed() throws Exception {
        ScriptedBackend a = fx.backend("a");
        ScriptedBackend b = fx.backend("b");
        a.hold(true);
        BalancerYaml yaml = BalancerYaml.create()
                .set("timeouts.response", "30s").set("timeouts.queue", "30s")
                .append("pools:\n"
                        + "  api: { backends: [ { id: a, url: \"http://127.0.0.1:" + a.port() + "\", max-in-flight: 1 } ] }\n"
                        + "  web: { backends: [ { id: b, url: \"http://127.0.0.1:" + b.port() + "\" } ] }\n"
                        + "routes:\n"
                        + "  - { match: { path: { prefix: /api } }, pool: api }\n"
                        + "default-pool: web\n");
        Balancer balancer = fx.balancer(yaml);
        CompletableFuture<RawHttpClient.Response> first = getAsync(balancer, "/api/first");
        await().atMost(Fixtures.WAIT).until(() -> a.holding() == 1);
        CompletableFuture<RawHttpClient.Response> waiting = getAsync(balancer, "/api/waiting");
        await().atMost(Fixtures.WAIT).until(() -> balancer.meterRegistry().get(BalancerMetrics.QUEUE_LENGTH)
                .tag(BalancerMetrics.TAG_POOL, "api").gauge().value() == 1.0);

        fx.reload(BalancerYaml.create().set("timeouts.response", "30s")
                .append("pools:\n"
                        + "  web: { backends: [ { id: b, url: \"http://127.0.0.1:" + b.port() + "\" } ] }\n"
                        + "default-pool: web\n"));
        a.hold(false);
        a.release();

        assertEquals(200, first.get(30, TimeUnit.SECONDS).status());
        RawHttpClient.Response served = waiting.get(30, TimeUnit.SECONDS);
        assertEquals(200, served.status(), new String(served.body(), StandardCharsets.UTF_8));
        assertEquals(2, a.requests(), "both went to the removed pool's backend, which still ran");
    }
}
