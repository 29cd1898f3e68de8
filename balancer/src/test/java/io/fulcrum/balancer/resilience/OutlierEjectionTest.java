package io.fulcrum.balancer.resilience;

import static io.fulcrum.balancer.resilience.BackendPoolFixture.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.routing.Backend;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Passive ejection of a backend that answers 503, bounded by max-ejected-percent. */
class OutlierEjectionTest {
    private BackendPoolFixture pool;

    @AfterEach
    void stop() throws Exception {
        pool.close();
    }

    @Test
    void aBackendAnswering503IsEjectedGetsNoTrafficAndReturnsWhenItRecovers() throws Exception {
        pool = new BackendPoolFixture(3).start("""
                routing: { slow-start: 0s }
                health: { path: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 3 }
                outlier: { consecutive-failures: 3, base-ejection: 3s, max-ejection: 6s, max-ejected-percent: 50 }
                retry: { attempts: 2, budget-percent: 100 }
                """);
        AtomicInteger maxEjected = new AtomicInteger();
        pool.balancer.registry().subscribe(snapshot -> {
            int n = (int) snapshot.backends().stream().map(Backend::state).filter(s -> s.ejected()).count();
            maxEjected.accumulateAndGet(n, Math::max);
        });
        NettyBackend sick = pool.backends[2];
        sick.status = 503; // its /health still answers 200: this is for passive detection alone

        try (Resilience.Load load = new Resilience.Load(pool.balancer.port(), "/items", 4)) {
            Resilience.LoadResult first = load.run(200);
            assertEquals(0, first.failures(), "503s are retried on the other backends: " + first);
            await().atMost(WAIT).until(() -> pool.state("b3").ejected());
            assertTrue(pool.state("b3").healthy(), "ejected by passive detection, not by health checks");

            int sickCount = sick.requests();
            int ejections = pool.state("b3").ejections();
            Resilience.LoadResult whileEjected = load.run(200);
            assertEquals(0, whileEjected.failures(), whileEjected.toString());
            assertTrue(pool.state("b3").ejected() && pool.state("b3").ejections() == ejections,
                    "precondition: the whole batch ran during one ejection");
            assertEquals(sickCount, sick.requests(), "an ejected backend gets no traffic");

            // A second failing backend cannot be ejected: 2 of 3 would pass 50%.
            pool.backends[1].status = 503;
            Resilience.LoadResult twoSick = load.run(200);
            assertEquals(0, twoSick.failures(), "b1 still serves everything: " + twoSick);
            assertFalse(pool.state("b2").ejected());
            assertTrue(pool.balancer.outlierDetector().refusedEjections() > 0);
            pool.backends[1].status = 200;

            // b3 recovers: after its ejection it takes traffic again.
            sick.status = 200;
            await().atMost(WAIT).until(() -> !pool.state("b3").ejected());
            Resilience.LoadResult after = load.run(200);
            assertEquals(0, after.failures(), after.toString());
            assertTrue(sick.requests() > sickCount, "the recovered backend serves again");
        }
        assertEquals(1, maxEjected.get(), "never more than max-ejected-percent of the pool ejected");
    }
}
