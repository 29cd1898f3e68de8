package io.fulcrum.balancer.resilience;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Fleet;
import io.fulcrum.testing.ScriptedBackend;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Passive ejection of a backend that answers 503, bounded by max-ejected-percent. */
class OutlierEjectionTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void aBackendAnswering503IsEjectedGetsNoTrafficAndReturnsWhenItRecovers() throws Exception {
        // An ejection long enough that b3 stays out through the next two batches on a loaded
        // machine: only then is a second ejection one that max-ejected-percent must refuse.
        Fleet fleet = fx.readyFleet(3, BalancerYaml.frequentChecks().merge("""
                routing: { slow-start: 0s }
                outlier: { consecutive-failures: 3, base-ejection: 8s, max-ejection: 16s, max-ejected-percent: 50 }
                retry: { attempts: 2, budget-percent: 100 }
                """));
        Balancer balancer = fleet.balancer();
        AtomicInteger maxEjected = new AtomicInteger();
        balancer.registry().subscribe(snapshot -> {
            int n = (int) snapshot.backends().stream().map(Backend::state).filter(s -> s.ejected()).count();
            maxEjected.accumulateAndGet(n, Math::max);
        });
        ScriptedBackend sick = fleet.backend(2);
        sick.status(503); // its /health still answers 200: this is for passive detection alone

        // 503s are retried on the other backends.
        // Traffic until it is ejected: how many requests that takes depends on the share least-busy
        // still gives it.
        await().atMost(WAIT).until(() -> {
            Fixtures.getsWithoutFailures(balancer, "/items", 4, 40);
            return fx.state("b3").ejected();
        });
        assertTrue(fx.state("b3").healthy(), "ejected by passive detection, not by health checks");

        int sickCount = sick.requests();
        int ejections = fx.state("b3").ejections();
        Fixtures.getsWithoutFailures(balancer, "/items", 4, 200);
        assertTrue(fx.state("b3").ejected() && fx.state("b3").ejections() == ejections,
                "precondition: the whole batch ran during one ejection");
        assertEquals(sickCount, sick.requests(), "an ejected backend gets no traffic");

        // A second failing backend cannot be ejected: 2 of 3 would pass 50%.
        fleet.backend(1).status(503);
        // Traffic until the detector has refused: how many requests reach b2 depends on the share
        // least-busy still gives it, and the detector decides on its control thread, after the load.
        await().atMost(WAIT).until(() -> {
            Fixtures.getsWithoutFailures(balancer, "/items", 4, 40); // b1 still serves everything
            return balancer.outlierDetector().refusedEjections() > 0;
        });
        assertFalse(fx.state("b2").ejected());
        fleet.backend(1).status(200);

        // b3 recovers: after its ejection it takes traffic again.
        sick.status(200);
        await().atMost(WAIT).until(() -> !fx.state("b3").ejected());
        Fixtures.getsWithoutFailures(balancer, "/items", 4, 200);
        assertTrue(sick.requests() > sickCount, "the recovered backend serves again");
        assertEquals(1, maxEjected.get(), "never more than max-ejected-percent of the pool ejected");
    }
}
