package io.fulcrum.balancer.health;

import static io.fulcrum.balancer.health.HealthFixtures.bad;
import static io.fulcrum.balancer.health.HealthFixtures.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.balancing.Backend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthTrackerTest {
    private final HealthFixtures.FakeClock clock = new HealthFixtures.FakeClock();
    private final Backend backend = HealthFixtures.backend("b1", 9001, clock);
    private final HealthTracker tracker = new HealthTracker(2, 3);
    private final List<HealthTransition> seen = new ArrayList<>();

    HealthTrackerTest() {
        tracker.subscribe(seen::add);
    }

    /** Past the first check, which has a rule of its own. */
    private void firstCheckPassed() {
        assertNull(tracker.observe(backend, ok()));
    }

    /** Asserts that {@code t} turns the backend {@code healthy} after {@code consecutive} checks in a row. */
    private void assertFlip(HealthTransition t, boolean healthy, int consecutive) {
        assertNotNull(t);
        assertEquals(healthy, t.healthy());
        assertEquals(consecutive, t.consecutive());
        assertEquals(healthy, backend.state().healthy());
    }

    @Test
    void aFailedFirstCheckTakesTheBackendDownAtOnce() {
        assertFlip(tracker.observe(backend, bad()), false, 1);
        assertNull(tracker.observe(backend, ok()), "coming back still takes `rise` checks");
        assertNotNull(tracker.observe(backend, ok()));
    }

    @Test
    void goesDownOnlyAfterFallFailuresInARow() {
        firstCheckPassed();
        assertNull(tracker.observe(backend, bad()));
        assertNull(tracker.observe(backend, bad()));
        assertTrue(backend.state().healthy());
        HealthTransition t = tracker.observe(backend, bad());
        assertFlip(t, false, 3);
        assertEquals(List.of(t), seen);
    }

    @Test
    void aSuccessInBetweenRestartsTheFailureCount() {
        firstCheckPassed();
        tracker.observe(backend, bad());
        tracker.observe(backend, bad());
        tracker.observe(backend, ok());
        assertNull(tracker.observe(backend, bad()));
        assertNull(tracker.observe(backend, bad()));
        assertTrue(backend.state().healthy());
        assertNotNull(tracker.observe(backend, bad()));
    }

    @Test
    void comesBackOnlyAfterRiseSuccessesInARow() {
        firstCheckPassed();
        for (int i = 0; i < 3; i++) {
            tracker.observe(backend, bad());
        }
        assertNull(tracker.observe(backend, ok()));
        assertNull(tracker.observe(backend, bad()));
        assertNull(tracker.observe(backend, ok()));
        assertFalse(backend.state().healthy());
        assertFlip(tracker.observe(backend, ok()), true, 2);
        assertEquals(2, seen.size());
    }

    @Test
    void emitsNothingWhileTheStateHolds() {
        for (int i = 0; i < 10; i++) {
            assertNull(tracker.observe(backend, ok()));
        }
        for (int i = 0; i < 3; i++) {
            tracker.observe(backend, bad());
        }
        for (int i = 0; i < 10; i++) {
            assertNull(tracker.observe(backend, bad()));
        }
        assertEquals(1, seen.size());
    }

    @Test
    void comingBackStartsSlowStart() {
        firstCheckPassed();
        long before = backend.state().recoveredAtNanos();
        for (int i = 0; i < 3; i++) {
            tracker.observe(backend, bad());
        }
        clock.advance(Duration.ofSeconds(5));
        tracker.observe(backend, ok());
        tracker.observe(backend, ok());
        assertTrue(backend.state().recoveredAtNanos() > before);
        assertEquals(clock.nanoTime(), backend.state().recoveredAtNanos());
        assertTrue(backend.state().slowStartFactor(clock.nanoTime(), Duration.ofSeconds(10).toNanos()) < 0.5);
    }

    @Test
    void forgottenBackendsStartAFreshCount() {
        firstCheckPassed();
        tracker.observe(backend, bad());
        tracker.observe(backend, bad());
        tracker.forget("b1");
        assertNotNull(tracker.observe(backend, bad()), "a forgotten backend's next check is a first check");
    }

    @Test
    void rejectsThresholdsBelowOne() {
        assertThrows(IllegalArgumentException.class, () -> new HealthTracker(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new HealthTracker(1, 0));
    }
}
