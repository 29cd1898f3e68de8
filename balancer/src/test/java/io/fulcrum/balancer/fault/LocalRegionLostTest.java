package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
 * Issue 8, second row: every backend of the balancer's own region dies at once under load (three
 * in {@code us-east}, one in {@code eu-west}). No client sees a failure, and every request that
 * starts after the kill is served by the next region: the switch costs no request.
 */
class LocalRegionLostTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void everyRequestSucceedsAndMovesToTheNextRegionWhenTheLocalRegionDies() throws Exception {
        List<ScriptedBackend> local = List.of(fx.backend("us-1"), fx.backend("us-2"), fx.backend("us-3"));
        ScriptedBackend remote = fx.backend("eu-1");
        BalancerYaml yaml = BalancerYaml.create().set("region", "us-east")
                .set("routing.policy", "least-busy")
                .checks("250ms", "500ms")
                .backend("eu-1", remote.port(), "eu-west");
        for (ScriptedBackend b : local) {
            yaml.backend(b.name(), b.port(), "us-east");
        }
        Balancer balancer = fx.readyBalancer(yaml);

        HttpLoad load = HttpLoad.to(balancer.port()).connections(16).requests(2000)
                .duration(Duration.ofSeconds(40)).script(seq -> HttpLoad.Request.get("/items/" + seq)).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= 500);
        // At once: no listener is left in the region before any connection is reset.
        local.forEach(ScriptedBackend::stopListening);
        local.forEach(ScriptedBackend::resetConnections);
        long killedAt = System.nanoTime();
        HttpLoad.Result result = load.await(Duration.ofSeconds(50));

        Fixtures.assertNoFailures(result, balancer);
        assertEquals(2000, result.total(), result.summary());
        List<HttpLoad.Outcome> elsewhere =
                result.matching(o -> o.startNanos() > killedAt && !"eu-1".equals(o.backend()));
        assertTrue(elsewhere.isEmpty(), "requests started after the kill and not served by eu-1: " + elsewhere.size()
                + " " + elsewhere.subList(0, Math.min(5, elsewhere.size())) + "; " + result.summary());
        assertTrue(result.matching(o -> o.startNanos() < killedAt && o.backend() != null
                && o.backend().startsWith("us-")).size() > 0, "the local region served before the kill: "
                + result.summary());
    }
}
