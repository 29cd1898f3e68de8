package io.fulcrum.balancer.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.NodeProcess;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8, third row with a real process: one of three post servers is stopped with SIGSTOP
 * under read load. The kernel still accepts its connections and takes its requests; nothing
 * answers. With {@code retry.per-try-timeout} below {@code timeouts.response}, no GET fails. The
 * server is resumed (SIGCONT) before the test ends, and killed with the others afterwards.
 */
class PausedServerTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void noGetFailsWhenOneOfThreeServersIsStopped() throws Exception {
        NodeProcess[] nodes = fx.nodes(3);
        NodeProcess n2 = nodes[1];
        // Warm each JVM directly: a cold node's first answers can take longer than the per-try
        // timeout, which is not the fault under test.
        for (NodeProcess n : nodes) {
            HttpLoad.to(n.port()).connections(4).requests(400)
                    .script(seq -> HttpLoad.Request.get("/timeline?limit=5")).run();
        }
        Balancer balancer = fx.balancer(BalancerYaml.underFault()
                .set("retry.per-try-timeout", "300ms").set("timeouts.response", "5s").backends(nodes));

        HttpLoad load = HttpLoad.to(balancer.port()).connections(16).requests(1500)
                .duration(Duration.ofSeconds(40))
                .script(seq -> HttpLoad.Request.get("/timeline?limit=5")).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= 300);
        int beforePause = load.snapshot().byBackend().getOrDefault("n2", 0L).intValue();
        n2.pause();
        HttpLoad.Result result;
        try {
            result = load.await(Duration.ofSeconds(50));
        } finally {
            n2.resume();
        }

        Fixtures.assertNoFailures(result, balancer);
        assertEquals(1500, result.total(), result.summary());
        assertTrue(beforePause > 0, "n2 served before it was stopped: " + result.summary());
    }
}
