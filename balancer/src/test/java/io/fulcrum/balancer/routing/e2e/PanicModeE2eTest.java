package io.fulcrum.balancer.routing.e2e;

import static io.fulcrum.balancer.routing.e2e.E2eFixtures.backend;
import static io.fulcrum.balancer.routing.e2e.E2eFixtures.config;
import static io.fulcrum.balancer.routing.e2e.E2eFixtures.load;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.e2e.E2eFixtures.LoadResult;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Panic mode over real sockets: when no backend in any region is routable, requests still go to
 * every backend that is not draining, and each such selection is counted.
 */
class PanicModeE2eTest {
    private static final int REQUESTS = 200;

    @Test
    void noRoutableBackendAnywhereStillServesFromNonDrainingOnesAndCountsPanic() throws Exception {
        try (TestBackend us1 = TestBackend.start("us1", 0);
                TestBackend eu1 = TestBackend.start("eu1", 0);
                TestBackend drained = TestBackend.start("drained", 0);
                Balancer balancer = E2eFixtures.start(config("us-east", "policy: least-busy",
                        List.of(backend(us1, "us-east"), backend(eu1, "eu-west"), backend(drained, "us-east"))))) {
            BackendRegistry registry = balancer.registry();
            registry.current().byId("us1").state().setHealthy(false);
            registry.current().byId("eu1").state().setHealthy(false);
            registry.current().byId("drained").state().setDraining(true);
            registry.refresh();
            long panicBefore = registry.panicSelections();

            LoadResult r = load(balancer, 4, REQUESTS, Map.of());

            assertEquals(Map.of(200, REQUESTS), r.statuses(), () -> "errors: " + r.errors());
            assertEquals(REQUESTS, r.servedBy("us1") + r.servedBy("eu1"), () -> "served by " + r.servedBy());
            assertTrue(r.servedBy("us1") > 0 && r.servedBy("eu1") > 0,
                    () -> "panic mode spreads over every region: " + r.servedBy());
            assertEquals(0, drained.received(), "a draining backend gets nothing, even in panic mode");
            long panics = registry.panicSelections() - panicBefore;
            assertTrue(panics >= REQUESTS, () -> "panic selections counted: " + panics);
        }
    }
}
