package io.fulcrum.balancer.routing.e2e;

import static io.fulcrum.balancer.routing.e2e.E2eFixtures.config;
import static io.fulcrum.balancer.routing.e2e.E2eFixtures.load;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.routing.e2e.E2eFixtures.BackendSpec;
import io.fulcrum.balancer.routing.e2e.E2eFixtures.LoadResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Admission over real sockets: when every backend is at max-in-flight the balancer answers 503 with
 * Retry-After at once instead of queueing, and serves again as soon as the backends drain.
 */
class AdmissionE2eTest {
    @Test
    void allBackendsFullFailsFastWith503AndRecoversWhenTheyDrain() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(3);
        try (TestBackend a = TestBackend.start("a", 0);
                TestBackend b = TestBackend.start("b", 0);
                Balancer balancer = E2eFixtures.start(config("local", "policy: least-busy",
                        List.of(new BackendSpec(a, "local", 1, 1), new BackendSpec(b, "local", 1, 2))))) {
            CompletableFuture<Void> gateA = a.closeGate();
            CompletableFuture<Void> gateB = b.closeGate();

            // Fill every slot: 1 at a, 2 at b, each request on its own connection, held by the gates.
            List<Future<KeepAliveClient.Response>> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(clients.submit(() -> {
                    try (KeepAliveClient c = new KeepAliveClient(balancer.port(), Map.of())) {
                        return c.get();
                    }
                }));
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertEquals(1, a.holding());
                assertEquals(2, b.holding());
            });

            // Full: the answer comes while the backends still hold their requests, so it was not queued.
            KeepAliveClient.Response rejected;
            try (KeepAliveClient c = new KeepAliveClient(balancer.port(), Map.of())) {
                rejected = c.get();
            }
            assertEquals(503, rejected.status());
            assertNotNull(rejected.retryAfter(), "503 for a full pool carries Retry-After");
            assertTrue(Integer.parseInt(rejected.retryAfter()) >= 0, rejected.retryAfter());
            assertEquals(1, a.holding());
            assertEquals(2, b.holding());
            assertEquals(3, a.received() + b.received(), "the rejected request reached no backend");
            for (Future<KeepAliveClient.Response> f : held) {
                assertFalse(f.isDone(), "held requests are still held");
            }

            // Drain: the held requests complete and new ones are served again.
            gateA.complete(null);
            gateB.complete(null);
            for (Future<KeepAliveClient.Response> f : held) {
                KeepAliveClient.Response r = f.get(10, TimeUnit.SECONDS);
                assertEquals(200, r.status());
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertEquals(0, balancer.registry().current().byId("a").state().inFlight()
                            + balancer.registry().current().byId("b").state().inFlight()));
            LoadResult after = load(balancer, 3, 60, Map.of());
            assertEquals(Map.of(200, 60), after.statuses(), () -> "errors: " + after.errors());
        } finally {
            clients.shutdownNow();
        }
    }
}
