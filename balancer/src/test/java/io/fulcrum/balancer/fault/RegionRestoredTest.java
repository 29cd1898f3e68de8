package io.fulcrum.balancer.fault;

import static org.awaitility.Awaitility.await;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8, last row: the local region is lost, traffic moves to the next region, then the local
 * backends come back. Least-busy sends the local region its share again (with a healthy local
 * region that is all of the traffic, by the locality rule) within the slow-start period once the
 * health checks have seen the backends up. Ejection is shortened to 1 s so that a passive
 * ejection from the loss cannot outlast the test; the health checks decide.
 */
class RegionRestoredTest {
    private static final Duration SLOW_START = Duration.ofSeconds(2);
    private static final int WINDOW = 200;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

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
