package io.fulcrum.balancer.routing.e2e;

import static io.fulcrum.balancer.routing.e2e.E2eFixtures.backend;
import static io.fulcrum.balancer.routing.e2e.E2eFixtures.config;
import static io.fulcrum.balancer.routing.e2e.E2eFixtures.load;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.e2e.E2eFixtures.BackendSpec;
import io.fulcrum.balancer.routing.e2e.E2eFixtures.LoadResult;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Region-aware routing over real sockets, with a balancer in us-east, two backends there and two in
 * eu-west: locality while there is local capacity, spill-over past saturation, failover when the
 * local region is down, and the client's own region from the region header.
 */
class RegionRoutingE2eTest {
    private static final String ROUTING = "policy: least-busy, region-header: X-Client-Region";

    private TestBackend us1;
    private TestBackend us2;
    private TestBackend eu1;
    private TestBackend eu2;

    @BeforeEach
    void startBackends() throws InterruptedException {
        us1 = TestBackend.start("us1", 0);
        us2 = TestBackend.start("us2", 0);
        eu1 = TestBackend.start("eu1", 0);
        eu2 = TestBackend.start("eu2", 0);
    }

    @AfterEach
    void stopBackends() {
        for (TestBackend b : new TestBackend[] {us1, us2, eu1, eu2}) {
            if (b != null) {
                b.close();
            }
        }
    }

    private List<BackendSpec> pool() {
        return List.of(backend(us1, "us-east"), backend(us2, "us-east"), backend(eu1, "eu-west"),
                backend(eu2, "eu-west"));
    }

    private static int sum(LoadResult r, String... ids) {
        int n = 0;
        for (String id : ids) {
            n += r.servedBy(id);
        }
        return n;
    }

    @Test
    void healthyLocalBackendsBelowSaturationTakeEveryRequest() throws Exception {
        try (Balancer balancer = E2eFixtures.start(config("us-east", ROUTING, pool()))) {
            LoadResult r = load(balancer, 8, 400, Map.of());

            assertEquals(Map.of(200, 400), r.statuses(), () -> "errors: " + r.errors());
            assertEquals(400, sum(r, "us1", "us2"), () -> "served by " + r.servedBy());
            assertTrue(r.servedBy("us1") > 0 && r.servedBy("us2") > 0, () -> "both local ones serve: " + r.servedBy());
            assertEquals(0, eu1.received() + eu2.received());
        }
    }

    @Test
    void saturatedLocalBackendsSpillTheExcessToTheNextRegion() throws Exception {
        // Local backends are slow and small: 4 slots each, saturated from 2 (0.5 × 4) in flight.
        us1.close();
        us2.close();
        us1 = TestBackend.start("us1", 20);
        us2 = TestBackend.start("us2", 20);
        List<BackendSpec> pool = List.of(new BackendSpec(us1, "us-east", 1, 4), new BackendSpec(us2, "us-east", 1, 4),
                backend(eu1, "eu-west"), backend(eu2, "eu-west"));
        try (Balancer balancer = E2eFixtures.start(config("us-east",
                ROUTING + ", spillover: {saturation: 0.5}", pool))) {
            LoadResult r = load(balancer, 16, 800, Map.of());

            assertEquals(Map.of(200, 800), r.statuses(), () -> "errors: " + r.errors());
            int local = sum(r, "us1", "us2");
            int remote = sum(r, "eu1", "eu2");
            assertTrue(local > 0, () -> "local backends still serve up to saturation: " + r.servedBy());
            assertTrue(remote > 0, () -> "the excess spills to eu-west: " + r.servedBy());
            // Local capacity is 2 × 4 requests at 20 ms; 16 clients need far more, so most spill.
            assertTrue(remote > local, () -> "most go to eu-west: " + r.servedBy());
            assertTrue(us1.maxHolding() <= 4 && us2.maxHolding() <= 4,
                    () -> "max-in-flight 4 is never exceeded: " + us1.maxHolding() + ", " + us2.maxHolding());
        }
    }

    @Test
    void stoppedLocalBackendsAreRetriedElsewhereAndNothingFails() throws Exception {
        try (Balancer balancer = E2eFixtures.start(config("us-east", ROUTING, pool()))) {
            us1.close();
            us2.close();
            // Health checks are off: each request meets connection refused in us-east and is retried,
            // which DESIGN.md allows for any method because no byte reached a backend.
            LoadResult r = load(balancer, 2, 100, Map.of());

            assertEquals(Map.of(200, 100), r.statuses(), () -> "errors: " + r.errors());
            assertEquals(100, sum(r, "eu1", "eu2"), () -> "served by " + r.servedBy());
        }
    }

    @Test
    void unhealthyLocalBackendsSendEverythingToTheOtherRegion() throws Exception {
        try (Balancer balancer = E2eFixtures.start(config("us-east", ROUTING, pool()))) {
            BackendRegistry registry = balancer.registry();
            registry.current().byId("us1").state().setHealthy(false);
            registry.current().byId("us2").state().setHealthy(false);
            registry.refresh();

            LoadResult r = load(balancer, 8, 400, Map.of());

            assertEquals(Map.of(200, 400), r.statuses(), () -> "errors: " + r.errors());
            assertEquals(400, sum(r, "eu1", "eu2"), () -> "served by " + r.servedBy());
            assertEquals(0, us1.received() + us2.received());
            assertEquals(0, registry.panicSelections(), "eu-west is routable, so this is not panic mode");
        }
    }

    @Test
    void regionHeaderRoutesToThatRegionFirst() throws Exception {
        try (Balancer balancer = E2eFixtures.start(config("us-east", ROUTING, pool()))) {
            LoadResult eu = load(balancer, 8, 400, Map.of("X-Client-Region", "eu-west"));
            LoadResult plain = load(balancer, 8, 400, Map.of());

            assertEquals(Map.of(200, 400), eu.statuses(), () -> "errors: " + eu.errors());
            assertEquals(400, sum(eu, "eu1", "eu2"), () -> "with the header: " + eu.servedBy());
            assertEquals(Map.of(200, 400), plain.statuses(), () -> "errors: " + plain.errors());
            assertEquals(400, sum(plain, "us1", "us2"), () -> "without the header: " + plain.servedBy());
        }
    }
}
