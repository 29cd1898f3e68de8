package io.fulcrum.balancer.resilience;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Fleet;
import io.fulcrum.testing.ScriptedBackend;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** The load a backend reports in its health answer steers traffic away from it. */
class LoadReportTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void aBackendReportingHighLoadGetsClearlyLessTraffic() throws Exception {
        Fleet fleet = fx.readyFleet(3, BalancerYaml.frequentChecks().merge("""
                routing: { slow-start: 0s }
                retry: { attempts: 2, budget-percent: 20 }
                """));
        List<ScriptedBackend> backends = fleet.backends();
        backends.get(0).load(0.9);
        backends.get(1).load(0.1);
        backends.get(2).load(0.1);
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.9, fx.state("b1").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, fx.state("b2").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, fx.state("b3").reportedLoad(), 1e-9));

        int requests = 600;
        Fixtures.getsWithoutFailures(fleet.balancer(), "/items", 8, requests);
        double busy = backends.get(0).requests() / (double) requests;
        double light1 = backends.get(1).requests() / (double) requests;
        double light2 = backends.get(2).requests() / (double) requests;
        LoggerFactory.getLogger(LoadReportTest.class).info("shares by reported load 0.9/0.1/0.1: {} {} {}",
                busy, light1, light2);
        // An equal share is 1/3 each.
        assertTrue(busy < 0.2, "the busy backend's share: " + busy);
        // Each light backend takes more than the busy one; how the two split the rest follows
        // their latencies, which a loaded test machine makes uneven.
        assertTrue(light1 > busy && light2 > busy && light1 + light2 > 0.8,
                "the light backends' shares: " + light1 + ", " + light2);
    }
}
