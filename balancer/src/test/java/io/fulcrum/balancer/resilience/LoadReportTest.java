package io.fulcrum.balancer.resilience;

import static io.fulcrum.balancer.resilience.BackendPoolFixture.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The load a backend reports in its health answer steers traffic away from it. */
class LoadReportTest {
    private BackendPoolFixture pool;

    @AfterEach
    void stop() throws Exception {
        pool.close();
    }

    @Test
    void aBackendReportingHighLoadGetsClearlyLessTraffic() throws Exception {
        pool = new BackendPoolFixture(3);
        pool.backends[0].load = 0.9;
        pool.backends[1].load = 0.1;
        pool.backends[2].load = 0.1;
        pool.start("""
                routing: { slow-start: 0s }
                health: { path: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 3 }
                retry: { attempts: 2, budget-percent: 20 }
                """);
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.9, pool.state("b1").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, pool.state("b2").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, pool.state("b3").reportedLoad(), 1e-9));

        int requests = 600;
        try (Resilience.Load load = new Resilience.Load(pool.balancer.port(), "/items", 8)) {
            Resilience.LoadResult r = load.run(requests);
            assertEquals(0, r.failures(), r.toString());
        }
        double busy = pool.backends[0].requests() / (double) requests;
        double light1 = pool.backends[1].requests() / (double) requests;
        double light2 = pool.backends[2].requests() / (double) requests;
        LoggerFactory.getLogger(LoadReportTest.class).info("shares by reported load 0.9/0.1/0.1: {} {} {}",
                busy, light1, light2);
        // An equal share is 1/3 each.
        assertTrue(busy < 0.2, "the busy backend's share: " + busy);
        assertTrue(light1 > 0.3 && light2 > 0.3, "the light backends' shares: " + light1 + ", " + light2);
    }
}
