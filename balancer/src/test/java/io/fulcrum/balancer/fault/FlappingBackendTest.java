package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Fleet;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8, fifth row: one backend of three flaps, down (listener closed, connections reset) and up
 * again on the same port, under load, and no GET fails. The row is "every second for
 * 20 s"; to keep the suite fast this flips every 500 ms for as long as the load runs (6 s, at
 * most 20,000 requests), which gives more flips per request than the original.
 */
class FlappingBackendTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void noGetFailsWhileABackendFlaps() throws Exception {
        Fleet fleet = fx.fleet(3, BalancerYaml.underFault().checks("250ms", "500ms"));
        ScriptedBackend flapping = fleet.backend(1);

        // Bounded by time first on most machines: the load spans many flips whatever its speed.
        HttpLoad load = HttpLoad.to(fleet.port()).connections(16).requests(20000)
                .duration(Duration.ofSeconds(6)).script(seq -> HttpLoad.Request.get("/items/" + seq)).start();
        int before = flapping.requests();
        // Up phases long enough for two health checks (rise) even on a busy machine.
        flapping.flap(Duration.ofSeconds(1));
        HttpLoad.Result result = load.await(Duration.ofSeconds(40));
        flapping.stopFlapping();

        Fixtures.assertNoFailures(result, fleet.balancer());
        assertTrue(flapping.requests() > before, "the flapping backend served in its up phases: " + flapping);
    }
}
