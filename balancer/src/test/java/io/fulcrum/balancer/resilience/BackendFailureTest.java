package io.fulcrum.balancer.resilience;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * A backend dies under load and comes back: no client sees an error, active checks mark it down,
 * passive detection takes it out (a hold-down at its first refused connect), and it takes traffic
 * again once it passes its rise checks.
 */
class BackendFailureTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private ScriptedBackend[] backends;
    private Balancer balancer;

    @BeforeEach
    void start() throws Exception {
        backends = fx.backends(3);
        balancer = fx.readyBalancer(BalancerYaml.frequentChecks().backends(backends).merge("""
                routing: { slow-start: 500ms }
                outlier: { consecutive-failures: 3, base-ejection: 1s, max-ejection: 5s, max-ejected-percent: 50 }
                retry: { attempts: 2, budget-percent: 100, per-try-timeout: 2s }
                """));
    }

    @Test
    void killingABackendUnderLoadLosesNoRequestAndItReturnsAfterRestart() throws Exception {
        HttpLoad.Result before = Fixtures.getsWithoutFailures(balancer, "/items", 8, 1500);
        assertTrue(backends[1].requests() > 0, "b2 served before it died");

        // Kill b2 while requests are running through the balancer.
        HttpLoad during = HttpLoad.to(balancer.port()).connections(8).script(seq -> HttpLoad.Request.get("/items"))
                .requests(2000).start();
        await().atMost(WAIT).until(() -> during.completed() >= 300);
        backends[1].kill();
        HttpLoad.Result duringResult = during.await(Duration.ofSeconds(60));
        assertEquals(0, duringResult.failures().size(), "clients saw errors: " + duringResult);

        await().atMost(WAIT).untilAsserted(() -> {
            assertTrue(!fx.state("b2").healthy(), "active checks mark the dead backend down");
            // Its first refused connect held it down at once; no run of failures was needed.
            assertTrue(fx.state("b2").connectFailures() >= 1 || fx.state("b2").ejections() >= 1,
                    "passive detection took it out");
        });
        assertTrue(fx.state("b1").routable() && fx.state("b3").routable(), "the live backends stay in");

        // Restart on the same port: it comes back after `rise` passed checks.
        int checksBefore = backends[1].healthChecks();
        int servedBefore = backends[1].requests();
        backends[1].restart();
        await().atMost(WAIT).until(() -> fx.state("b2").routable());
        assertTrue(backends[1].healthChecks() - checksBefore >= 2, "rise is 2");
        assertTrue(fx.state("b2").recoveredAtNanos() != Long.MIN_VALUE, "it ramps up through slow start");

        HttpLoad.Result after = Fixtures.getsWithoutFailures(balancer, "/items", 8, 1500);
        assertTrue(backends[1].requests() > servedBefore, "the restarted backend takes traffic again");
        assertEquals(5000, before.total() + duringResult.total() + after.total());
        LoggerFactory.getLogger(BackendFailureTest.class).info(
                "5000 requests, 0 errors; b2 ejections {}, served by b1 {}, b3 {}, restarted b2 {}; failed tries at b2 {}",
                fx.state("b2").ejections(), backends[0].requests(), backends[2].requests(),
                backends[1].requests() - servedBefore,
                fx.state("b2").errors());
    }
}
