package io.fulcrum.balancer.routing.e2e;

import static io.fulcrum.balancer.routing.e2e.E2eFixtures.config;
import static io.fulcrum.balancer.routing.e2e.E2eFixtures.load;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.routing.e2e.E2eFixtures.BackendSpec;
import io.fulcrum.balancer.routing.e2e.E2eFixtures.LoadResult;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Weighted round-robin over real sockets: weights 1:2:3 give shares 1/6, 2/6, 3/6. */
class WeightedRoundRobinE2eTest {
    private static final int REQUESTS = 600;

    @Test
    void weightsOneTwoThreeGiveProportionalShares() throws Exception {
        try (TestBackend w1 = TestBackend.start("w1", 0);
                TestBackend w2 = TestBackend.start("w2", 0);
                TestBackend w3 = TestBackend.start("w3", 0);
                Balancer balancer = E2eFixtures.start(config("local", "policy: round-robin", List.of(
                        new BackendSpec(w1, "local", 1, 512),
                        new BackendSpec(w2, "local", 2, 512),
                        new BackendSpec(w3, "local", 3, 512))))) {
            LoadResult result = load(balancer, 1, REQUESTS, Map.of());

            assertEquals(Map.of(200, REQUESTS), result.statuses(), () -> "errors: " + result.errors());
            assertShare(result, "w1", 1.0 / 6);
            assertShare(result, "w2", 2.0 / 6);
            assertShare(result, "w3", 3.0 / 6);
            // The backends' own counts agree with what the clients were told.
            assertEquals(result.servedBy("w1"), w1.answered());
            assertEquals(result.servedBy("w3"), w3.answered());
        }
    }

    private static void assertShare(LoadResult result, String id, double expected) {
        double share = (double) result.servedBy(id) / REQUESTS;
        assertEquals(expected, share, 0.05, () -> id + " share " + share + " of " + result.servedBy());
    }
}
