package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Whether a backend's failure is its own or the pool's (the retry budget's question). */
class BackendSnapshotTest {
    private final FakeClock clock = new FakeClock();
    private final Backend a = backend("a", 1, clock);
    private final Backend b = backend("b", 1, clock);
    private final Backend c = backend("c", 1, clock);
    private final BackendSnapshot snapshot = new BackendSnapshot(1, List.of(a, b, c), null);

    private void answer(Backend x, int requests, int failedInTen) {
        for (int i = 0; i < requests; i++) {
            assertTrue(x.tryAcquire());
            x.state().onRequestEnd(1_000_000, i % 10 < failedInTen ? Outcome.SERVER_ERROR : Outcome.SUCCESS,
                    clock.nanoTime());
        }
    }

    @Test
    void aBackendFailingWhileItsPeersAreWellFailsAlone() {
        answer(a, 100, 3);
        answer(b, 100, 0);
        answer(c, 100, 0);

        assertTrue(snapshot.othersFailLittle(a, clock.nanoTime()));
    }

    @Test
    void aBrownOutIsNoBackendsOwnFailure() {
        answer(a, 100, 3);
        answer(b, 100, 3);
        answer(c, 100, 0);

        assertFalse(snapshot.othersFailLittle(a, clock.nanoTime()), "b fails too: the pool is browning out");
    }

    @Test
    void aPeerThatIsDownOrHeldDownCountsAsFailing() {
        answer(b, 100, 0);
        answer(c, 100, 0);
        b.state().setHealthy(false);
        assertFalse(snapshot.othersFailLittle(a, clock.nanoTime()), "b is down");

        b.state().setHealthy(true);
        c.state().holdDown(clock.nanoTime(), TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(30));
        assertFalse(snapshot.othersFailLittle(a, clock.nanoTime()), "c refuses connections");
        c.state().setDraining(true);
        assertTrue(snapshot.othersFailLittle(a, clock.nanoTime()), "a draining backend is left out");
    }
}
