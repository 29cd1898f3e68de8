package io.fulcrum.balancer.balancing.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A backend that answers three requests in ten with an immediate 503 and the rest like its peers,
 * over real sockets, with retries on: the client sees no failure, and the backend keeps a share of
 * the traffic, smaller than each peer's. Neither "looks fast, gets more" (its fast failures never
 * lower its latency estimate, and its error rate raises its cost) nor "ejected, gets nothing" (a
 * run of failures that its rate explains does not eject it).
 */
class FailingFastE2eTest {
    private static final int REQUESTS = 2000;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void aBackendFailingAThirdOfItsRequestsFastKeepsASmallerShareAndNoClientSeesAFailure() throws Exception {
        List<ScriptedBackend> good = List.of(fx.backend("good1"), fx.backend("good2"), fx.backend("good3"));
        ScriptedBackend bad = fx.backend("bad").fault(ScriptedBackend.Fault.ERROR_5XX_30_PERCENT);
        good.forEach(b -> b.delay(Duration.ofMillis(5)));
        bad.delay(Duration.ofMillis(5));
        List<Backend> backends = List.of(Backend.of(good.get(0), "local"), Backend.of(good.get(1), "local"),
                Backend.of(good.get(2), "local"), Backend.of(bad, "local"));

        HttpLoad.Result result;
        int badBefore;
        try (Balancer balancer = BalancerYaml.routing("local", "policy: least-busy", backends)
                .set("retry.attempts", "2").start()) {
            // First the peers show they are well: until each has answered a few requests, a 5xx could be
            // a pool-wide brown-out, and its retry spends a budget slot that may be refused.
            HttpLoad.to(balancer.port()).connections(4).requests(200).run();
            badBefore = bad.requests();
            result = HttpLoad.to(balancer.port()).connections(16).requests(REQUESTS).run();
        }

        assertEquals(Map.of(200, REQUESTS), result.statuses(), () -> "errors: " + result.errors());
        int badServed = result.servedBy("bad");
        int badRequests = bad.requests() - badBefore;
        assertTrue(badRequests > 0 && badServed > 0, () -> "the failing backend still serves: " + result.servedBy());
        for (ScriptedBackend g : good) {
            int served = result.servedBy(g.name());
            assertTrue(badRequests < served, () -> "the failing backend got " + badRequests
                    + " requests, fewer than each peer's answers: " + result.servedBy());
        }
    }
}
