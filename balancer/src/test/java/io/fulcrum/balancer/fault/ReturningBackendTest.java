package io.fulcrum.balancer.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Fleet;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8's rows where a backend comes back: on a new address after a reload, up again after it
 * went down (flapping under load), and a whole region restored after it was lost.
 */
class ReturningBackendTest {
    private static final Duration SLOW_START = Duration.ofSeconds(2);
    private static final int WINDOW = 200;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /**
     * Issue 8 finding: a reload that keeps a backend's id but changes its URL. Afterwards no request
     * reaches the old port, and the idle pooled connections to the old address are closed (the
     * backend-idle timeout is long, so only the reload can have closed them).
     */
    @Test
    void afterAReloadMovesABackendNoRequestReachesTheOldPortAndItsIdleConnectionsClose() throws Exception {
        ScriptedBackend oldServer = fx.backend("old");
        ScriptedBackend newServer = fx.backend("new");
        BalancerYaml yaml = BalancerYaml.create().set("timeouts.backend-idle", "60s");
        Balancer balancer = fx.balancer(yaml.backend("b1", oldServer.port()));
        Fixtures.getsWithoutFailures(balancer, "/", 8, 200);
        assertTrue(oldServer.connectionsOpen() > 0, "pooled connections to the old address are open");
        int oldRequests = oldServer.requests();

        fx.reload(yaml.clearBackends().backend("b1", newServer.port()));
        HttpLoad.Result after = Fixtures.getsWithoutFailures(balancer, "/", 8, 200);

        assertEquals(oldRequests, oldServer.requests(), "requests reaching the old port after the reload");
        assertEquals(200, newServer.requests(), after.summary());
        await("idle connections to the old address closed").atMost(Duration.ofSeconds(10))
                .until(() -> oldServer.connectionsOpen() == 0);
    }

    /**
     * Issue 8, fifth row: one backend of three flaps, down (listener closed, connections reset) and up
     * again on the same port, under load, and no GET fails. The row is "every second for
     * 20 s"; to keep the suite fast this flips every 500 ms for as long as the load runs (6 s, at
     * most 20,000 requests), which gives more flips per request than the original.
     */
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

    /**
     * Issue 8, last row: the local region is lost, traffic moves to the next region, then the local
     * backends come back. Least-busy sends the local region its share again (with a healthy local
     * region that is all of the traffic, by the locality rule) within the slow-start period once the
     * health checks have seen the backends up. Ejection is shortened to 1 s so that a passive
     * ejection from the loss cannot outlast the test; the health checks decide.
     */
    @Test
    void trafficReturnsToARestoredRegionWithinTheSlowStartPeriod() throws Exception {
        ScriptedBackend us1 = fx.backend("us-1");
        ScriptedBackend us2 = fx.backend("us-2");
        ScriptedBackend eu1 = fx.backend("eu-1");
        Balancer balancer = fx.readyBalancer(BalancerYaml.create().set("region", "us-east")
                .set("routing.policy", "least-busy").set("routing.slow-start", SLOW_START.toMillis() + "ms")
                .checks("200ms", "500ms")
                .set("health.rise", "2").set("health.fall", "2")
                .set("outlier.base-ejection", "1s").set("outlier.max-ejection", "1s")
                .set("retry.attempts", "2")
                .backend("us-1", us1.port(), "us-east").backend("us-2", us2.port(), "us-east")
                .backend("eu-1", eu1.port(), "eu-west"));
        HttpLoad load = HttpLoad.to(balancer.port()).connections(8).requests(200_000)
                .duration(Duration.ofSeconds(40)).script(seq -> HttpLoad.Request.get("/items/" + seq)).start();
        fx.closeAfter(load::stop);
        await().atMost(Duration.ofSeconds(20)).until(() -> load.completed() >= WINDOW);

        us1.kill();
        us2.kill();
        await("local region marked down").atMost(Duration.ofSeconds(20)).until(() ->
                !balancer.registry().current().byId("us-1").state().healthy()
                        && !balancer.registry().current().byId("us-2").state().healthy());
        int lost = load.completed();
        await("the next region serves").atMost(Duration.ofSeconds(20))
                .until(() -> localShare(load.snapshot(), lost) == 0.0);

        us1.restart();
        us2.restart();
        await("local region healthy again").atMost(Duration.ofSeconds(20)).until(() ->
                balancer.registry().current().byId("us-1").state().healthy()
                        && balancer.registry().current().byId("us-2").state().healthy());
        int back = load.completed();
        await("the local region's share returns within the slow-start period")
                .atMost(SLOW_START.plusSeconds(3))
                .until(() -> localShare(load.snapshot(), back) >= 0.9);
        load.stopAndAwait(Duration.ofSeconds(20));
    }

    /**
     * The share of the last {@value #WINDOW} answers served by {@code us-*}, counting only requests
     * after the first {@code skip}; 0.5 (neither yes nor no) until there are that many.
     */
    private static double localShare(HttpLoad.Result result, int skip) {
        List<HttpLoad.Outcome> answered = result.matching(o -> o.seq() >= skip && o.backend() != null);
        if (answered.size() < WINDOW) {
            return 0.5;
        }
        List<HttpLoad.Outcome> last = answered.subList(answered.size() - WINDOW, answered.size());
        return last.stream().filter(o -> o.backend().startsWith("us-")).count() / (double) WINDOW;
    }
}
