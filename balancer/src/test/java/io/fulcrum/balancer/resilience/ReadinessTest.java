package io.fulcrum.balancer.resilience;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The readiness hook: ready once the first health round is in and some backend is routable. */
class ReadinessTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void notReadyWhileTheOnlyBackendIsDownAndReadyOnceItPassesItsChecks() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        backend.kill();
        Balancer balancer = fx.balancer(BalancerYaml.frequentChecks().backend("b1", backend.port()));
        await().atMost(WAIT).until(() -> balancer.healthChecks().firstRoundComplete());
        assertFalse(balancer.ready(), "the first check failed: nothing to route to");

        backend.restart();
        await().atMost(WAIT).until(balancer::ready);
        assertTrue(balancer.registry().current().byId("b1").state().routable());
    }
}
