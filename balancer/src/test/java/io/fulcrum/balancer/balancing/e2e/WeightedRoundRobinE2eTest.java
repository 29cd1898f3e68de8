package io.fulcrum.balancer.balancing.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Weighted round-robin over real sockets: weights 1:2:3 give shares 1/6, 2/6, 3/6. */
class WeightedRoundRobinE2eTest {
    private static final int REQUESTS = 600;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void weightsOneTwoThreeGiveProportionalShares() throws Exception {
        ScriptedBackend[] w = fx.backends("w1", "w2", "w3");
        Balancer balancer = fx.balancer(BalancerYaml.routing("local", "policy: round-robin", List.of(
                Backend.of(w[0], "local", 1, 512), Backend.of(w[1], "local", 2, 512),
                Backend.of(w[2], "local", 3, 512))));
        HttpLoad.Result result = Fixtures.getsWithoutFailures(balancer, "/", 1, REQUESTS);

        assertShare(result, "w1", 1.0 / 6);
        assertShare(result, "w2", 2.0 / 6);
        assertShare(result, "w3", 3.0 / 6);
        // The backends' own counts agree with what the clients were told.
        assertEquals(result.servedBy("w1"), w[0].answered());
        assertEquals(result.servedBy("w3"), w[2].answered());
    }

    private static void assertShare(HttpLoad.Result result, String id, double expected) {
        double share = (double) result.servedBy(id) / REQUESTS;
        assertEquals(expected, share, 0.05, () -> id + " share " + share + " of " + result.servedBy());
    }
}
