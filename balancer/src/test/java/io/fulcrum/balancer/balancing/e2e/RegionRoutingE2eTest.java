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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Region-aware routing over real sockets, with a balancer in us-east, two backends there and two in
 * eu-west: locality while there is local capacity, spill-over past saturation, failover when the
 * local region is down, panic mode when no region has a routable backend, and the client's own
 * region from the region header.
 */
class RegionRoutingE2eTest {
    private static final String ROUTING = "policy: least-busy, region-header: X-Client-Region";

    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private ScriptedBackend us1;
    private ScriptedBackend us2;
    private ScriptedBackend eu1;
    private ScriptedBackend eu2;

    @BeforeEach
    void startBackends() throws InterruptedException {
        ScriptedBackend[] b = fx.backends("us1", "us2", "eu1", "eu2");
        us1 = b[0];
        us2 = b[1];
        eu1 = b[2];
        eu2 = b[3];
    }

    /** The loopback clients of these tests are the trusted edges whose region header is believed. */
    private static BalancerYaml routing(String routing, List<Backend> pool) {
        return BalancerYaml.routing("us-east", routing, pool).merge("trusted-edges: { networks: [127.0.0.0/8] }");
    }

    private List<Backend> pool() {
        return List.of(Backend.of(us1, "us-east"), Backend.of(us2, "us-east"), Backend.of(eu1, "eu-west"),
                Backend.of(eu2, "eu-west"));
    }

    private static int sum(HttpLoad.Result r, String... ids) {
        int n = 0;
        for (String id : ids) {
            n += r.servedBy(id);
        }
        return n;
    }

    @Test
    void healthyLocalBackendsBelowSaturationTakeEveryRequest() throws Exception {
        Balancer balancer = fx.balancer(routing(ROUTING, pool()));
        HttpLoad.Result r = Fixtures.getsWithoutFailures(balancer, "/", 8, 400);

        assertEquals(400, sum(r, "us1", "us2"), () -> "served by " + r.servedBy());
        assertTrue(r.servedBy("us1") > 0 && r.servedBy("us2") > 0, () -> "both local ones serve: " + r.servedBy());
        assertEquals(0, eu1.requests() + eu2.requests());
    }

    @Test
    void saturatedLocalBackendsSpillTheExcessToTheNextRegion() throws Exception {
        // Local backends are slow and small: 4 slots each, saturated from 2 (0.5 × 4) in flight.
        us1.close();
        us2.close();
        us1 = fx.backend("us1").delay(Duration.ofMillis(20));
        us2 = fx.backend("us2").delay(Duration.ofMillis(20));
        List<Backend> pool = List.of(Backend.of(us1, "us-east", 1, 4), Backend.of(us2, "us-east", 1, 4),
                Backend.of(eu1, "eu-west"), Backend.of(eu2, "eu-west"));
        Balancer balancer = fx.balancer(routing(ROUTING + ", spillover: {saturation: 0.5}", pool));
        HttpLoad.Result r = Fixtures.getsWithoutFailures(balancer, "/", 16, 800);

        int local = sum(r, "us1", "us2");
        int remote = sum(r, "eu1", "eu2");
        assertTrue(local > 0, () -> "local backends still serve up to saturation: " + r.servedBy());
        assertTrue(remote > 0, () -> "the excess spills to eu-west: " + r.servedBy());
        // Local capacity is 2 × 4 requests at 20 ms; 16 clients need far more, so most spill.
        assertTrue(remote > local, () -> "most go to eu-west: " + r.servedBy());
        assertTrue(us1.maxHolding() <= 4 && us2.maxHolding() <= 4,
                () -> "max-in-flight 4 is never exceeded: " + us1.maxHolding() + ", " + us2.maxHolding());
    }

    @Test
    void stoppedLocalBackendsAreRetriedElsewhereAndNothingFails() throws Exception {
        Balancer balancer = fx.balancer(routing(ROUTING, pool()));
        us1.close();
        us2.close();
        // Health checks are off: each request meets connection refused in us-east and is retried,
        // which DESIGN.md allows for any method because no byte reached a backend.
        HttpLoad.Result r = Fixtures.getsWithoutFailures(balancer, "/", 2, 100);

        assertEquals(100, sum(r, "eu1", "eu2"), () -> "served by " + r.servedBy());
    }

    @Test
    void unhealthyLocalBackendsSendEverythingToTheOtherRegion() throws Exception {
        Balancer balancer = fx.balancer(routing(ROUTING, pool()));
        BackendRegistry registry = balancer.registry();
        registry.current().byId("us1").state().setHealthy(false);
        registry.current().byId("us2").state().setHealthy(false);
        registry.refresh();

        HttpLoad.Result r = Fixtures.getsWithoutFailures(balancer, "/", 8, 400);

        assertEquals(400, sum(r, "eu1", "eu2"), () -> "served by " + r.servedBy());
        assertEquals(0, us1.requests() + us2.requests());
        assertEquals(0, registry.panicSelections(), "eu-west is routable, so this is not panic mode");
    }

    /**
     * Panic mode: when no backend in any region is routable, requests still go to every backend that
     * is not draining, and each such selection is counted.
     */
    @Test
    void noRoutableBackendAnywhereStillServesFromNonDrainingOnesAndCountsPanic() throws Exception {
        ScriptedBackend drained = us2;
        Balancer balancer = fx.balancer(BalancerYaml.routing("us-east", "policy: least-busy",
                List.of(Backend.of(us1, "us-east"), Backend.of(eu1, "eu-west"), Backend.of(drained, "us-east"))));
        BackendRegistry registry = balancer.registry();
        registry.current().byId("us1").state().setHealthy(false);
        registry.current().byId("eu1").state().setHealthy(false);
        registry.current().byId("us2").state().setDraining(true);
        registry.refresh();
        long panicBefore = registry.panicSelections();
        int requests = 200;

        HttpLoad.Result r = Fixtures.getsWithoutFailures(balancer, "/", 4, requests);

        assertEquals(requests, r.servedBy("us1") + r.servedBy("eu1"), () -> "served by " + r.servedBy());
        assertTrue(r.servedBy("us1") > 0 && r.servedBy("eu1") > 0,
                () -> "panic mode spreads over every region: " + r.servedBy());
        assertEquals(0, drained.requests(), "a draining backend gets nothing, even in panic mode");
        long panics = registry.panicSelections() - panicBefore;
        assertTrue(panics >= requests, () -> "panic selections counted: " + panics);
    }

    @Test
    void regionHeaderRoutesToThatRegionFirst() throws Exception {
        Balancer balancer = fx.balancer(routing(ROUTING, pool()));
        HttpLoad.Result eu = HttpLoad.to(balancer.port()).connections(8).requests(400).headers(Map.of("X-Client-Region", "eu-west")).run();
        HttpLoad.Result plain = HttpLoad.to(balancer.port()).connections(8).requests(400).run();

        assertEquals(Map.of(200, 400), eu.statuses(), () -> "errors: " + eu.errors());
        assertEquals(400, sum(eu, "eu1", "eu2"), () -> "with the header: " + eu.servedBy());
        assertEquals(Map.of(200, 400), plain.statuses(), () -> "errors: " + plain.errors());
        assertEquals(400, sum(plain, "us1", "us2"), () -> "without the header: " + plain.servedBy());
    }
}
