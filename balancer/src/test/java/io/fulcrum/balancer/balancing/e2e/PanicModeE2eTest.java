package io.fulcrum.balancer.balancing.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.testing.BalancerYaml.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Panic mode over real sockets: when no backend in any region is routable, requests still go to
 * every backend that is not draining, and each such selection is counted.
 */
class PanicModeE2eTest {
    private static final int REQUESTS = 200;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void noRoutableBackendAnywhereStillServesFromNonDrainingOnesAndCountsPanic() throws Exception {
        ScriptedBackend[] b = fx.backends("us1", "eu1", "drained");
        ScriptedBackend drained = b[2];
        Balancer balancer = fx.balancer(BalancerYaml.routing("us-east", "policy: least-busy",
                List.of(Backend.of(b[0], "us-east"), Backend.of(b[1], "eu-west"), Backend.of(drained, "us-east"))));
        BackendRegistry registry = balancer.registry();
        registry.current().byId("us1").state().setHealthy(false);
        registry.current().byId("eu1").state().setHealthy(false);
        registry.current().byId("drained").state().setDraining(true);
        registry.refresh();
        long panicBefore = registry.panicSelections();

        HttpLoad.Result r = Fixtures.getsWithoutFailures(balancer, "/", 4, REQUESTS);

        assertEquals(REQUESTS, r.servedBy("us1") + r.servedBy("eu1"), () -> "served by " + r.servedBy());
        assertTrue(r.servedBy("us1") > 0 && r.servedBy("eu1") > 0,
                () -> "panic mode spreads over every region: " + r.servedBy());
        assertEquals(0, drained.requests(), "a draining backend gets nothing, even in panic mode");
        long panics = registry.panicSelections() - panicBefore;
        assertTrue(panics >= REQUESTS, () -> "panic selections counted: " + panics);
    }
}
