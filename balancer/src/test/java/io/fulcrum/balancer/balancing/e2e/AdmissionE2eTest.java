package io.fulcrum.balancer.balancing.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Admission over real sockets without a queue ({@code limits.max-queue: 0} or
 * {@code timeouts.queue: 0s}): when every backend is at max-in-flight the balancer answers 503 with
 * Retry-After at once, and serves again as soon as the backends drain. With the queue, see
 * {@link AdmissionQueueE2eTest}.
 */
class AdmissionE2eTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @ParameterizedTest
    @ValueSource(strings = {"limits.max-queue", "timeouts.queue"})
    void withoutAQueueAllBackendsFullFailsFastWith503AndRecoversWhenTheyDrain(String off) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(3);
        fx.closeAfter(clients::shutdownNow);
        ScriptedBackend a = fx.backend("a");
        ScriptedBackend b = fx.backend("b");
        Balancer balancer = fx.balancer(BalancerYaml.routing("local", "policy: least-busy",
                List.of(Backend.of(a, "local", 1, 1), Backend.of(b, "local", 1, 2)))
                .set(off, off.startsWith("timeouts") ? "0s" : "0"));
        a.hold(true);
        b.hold(true);

        // Fill every slot: 1 at a, 2 at b, each request on its own connection, held while the backends hold them.
        List<Future<RawHttpClient.Response>> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(clients.submit(() -> {
                try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
                    return c.get("/");
                }
            }));
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertEquals(1, a.holding());
            assertEquals(2, b.holding());
        });

        // Full: the answer comes while the backends still hold their requests; it says there is
        // no backend, not that a queue wait ran out.
        RawHttpClient.Response rejected;
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            rejected = c.get("/");
        }
        assertEquals(503, rejected.status());
        assertTrue(rejected.bodyText().contains("no backend available"), rejected.bodyText());
        assertNotNull(rejected.header("Retry-After"), "503 for a full pool carries Retry-After");
        assertTrue(Integer.parseInt(rejected.header("Retry-After")) >= 0, rejected.header("Retry-After"));
        assertEquals(1, a.holding());
        assertEquals(2, b.holding());
        assertEquals(3, a.requests() + b.requests(), "the rejected request reached no backend");
        for (Future<RawHttpClient.Response> f : held) {
            assertFalse(f.isDone(), "held requests are still held");
        }

        // Drain: the held requests complete and new ones are served again.
        a.hold(false);
        a.release();
        b.hold(false);
        b.release();
        for (Future<RawHttpClient.Response> f : held) {
            RawHttpClient.Response r = f.get(10, TimeUnit.SECONDS);
            assertEquals(200, r.status());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertEquals(0, balancer.registry().current().byId("a").state().inFlight()
                        + balancer.registry().current().byId("b").state().inFlight()));
        HttpLoad.Result after = Fixtures.getsWithoutFailures(balancer, "/", 3, 60);
    }
}
