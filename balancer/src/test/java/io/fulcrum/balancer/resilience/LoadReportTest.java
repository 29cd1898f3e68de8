package io.fulcrum.balancer.resilience;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** The load a backend reports in its health answer steers traffic away from it. */
class LoadReportTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void aBackendReportingHighLoadGetsClearlyLessTraffic() throws Exception {
        ScriptedBackend[] backends = fx.backends(3);
        backends[0].load(0.9);
        backends[1].load(0.1);
        backends[2].load(0.1);
        Balancer balancer = fx.readyBalancer(BalancerYaml.frequentChecks().backends(backends).merge("""
                routing: { slow-start: 0s }
                retry: { attempts: 2, budget-percent: 20 }
                """));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.9, fx.state("b1").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, fx.state("b2").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, fx.state("b3").reportedLoad(), 1e-9));

        int requests = 600;
        HttpLoad.Result r = HttpLoad.to(balancer.port()).connections(8)
                .script(seq -> HttpLoad.Request.get("/items")).requests(requests).run();
        assertEquals(0, r.failures().size(), r.summary());
        double busy = backends[0].requests() / (double) requests;
        double light1 = backends[1].requests() / (double) requests;
        double light2 = backends[2].requests() / (double) requests;
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
