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
import io.fulcrum.testing.HttpLoad;
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
        ScriptedBackend[] backends = fx.backends(3);
        // An ejection long enough that b3 stays out through the next two batches on a loaded
        // machine: only then is a second ejection one that max-ejected-percent must refuse.
        Balancer balancer = fx.readyBalancer(BalancerYaml.frequentChecks().backends(backends).merge("""
                routing: { slow-start: 0s }
                outlier: { consecutive-failures: 3, base-ejection: 8s, max-ejection: 16s, max-ejected-percent: 50 }
                retry: { attempts: 2, budget-percent: 100 }
                """));
        AtomicInteger maxEjected = new AtomicInteger();
        balancer.registry().subscribe(snapshot -> {
            int n = (int) snapshot.backends().stream().map(Backend::state).filter(s -> s.ejected()).count();
            maxEjected.accumulateAndGet(n, Math::max);
        });
        ScriptedBackend sick = backends[2];
        sick.status(503); // its /health still answers 200: this is for passive detection alone

        HttpLoad.Result first = HttpLoad.to(balancer.port()).connections(4)
                .script(seq -> HttpLoad.Request.get("/items")).requests(200).run();
        assertEquals(0, first.failures().size(), "503s are retried on the other backends: " + first);
        await().atMost(WAIT).until(() -> fx.state("b3").ejected());
        assertTrue(fx.state("b3").healthy(), "ejected by passive detection, not by health checks");

        int sickCount = sick.requests();
        int ejections = fx.state("b3").ejections();
        HttpLoad.Result whileEjected = HttpLoad.to(balancer.port()).connections(4)
                .script(seq -> HttpLoad.Request.get("/items")).requests(200).run();
        assertEquals(0, whileEjected.failures().size(), whileEjected.summary());
        assertTrue(fx.state("b3").ejected() && fx.state("b3").ejections() == ejections,
                "precondition: the whole batch ran during one ejection");
        assertEquals(sickCount, sick.requests(), "an ejected backend gets no traffic");

        // A second failing backend cannot be ejected: 2 of 3 would pass 50%.
        backends[1].status(503);
        HttpLoad.Result twoSick = HttpLoad.to(balancer.port()).connections(4)
                .script(seq -> HttpLoad.Request.get("/items")).requests(200).run();
        assertEquals(0, twoSick.failures().size(), "b1 still serves everything: " + twoSick);
        assertFalse(fx.state("b2").ejected());
        // The detector decides on its control thread: the refusal is counted there, after the load.
        await().atMost(WAIT).until(() -> balancer.outlierDetector().refusedEjections() > 0);
        backends[1].status(200);

        // b3 recovers: after its ejection it takes traffic again.
        sick.status(200);
        await().atMost(WAIT).until(() -> !fx.state("b3").ejected());
        HttpLoad.Result after = HttpLoad.to(balancer.port()).connections(4)
                .script(seq -> HttpLoad.Request.get("/items")).requests(200).run();
        assertEquals(0, after.failures().size(), after.summary());
        assertTrue(sick.requests() > sickCount, "the recovered backend serves again");
        assertEquals(1, maxEjected.get(), "never more than max-ejected-percent of the pool ejected");
    }
}
