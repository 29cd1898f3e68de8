package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackendStateTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long SLOW_START = TimeUnit.SECONDS.toNanos(10);

    private final FakeClock clock = new FakeClock();
    private final BackendState state = new BackendState(clock);

    @Test
    void tryAcquireStopsAtMaxInFlightAndOnRequestEndFreesASlot() {
        Backend b = backend("a", "us-east", 1, 2, clock);
        assertTrue(b.tryAcquire());
        assertTrue(b.tryAcquire());
        assertFalse(b.tryAcquire());
        assertEquals(2, b.state().inFlight());

        b.state().onRequestEnd(MS, Outcome.SUCCESS);
        assertEquals(1, b.state().inFlight());
        assertTrue(b.tryAcquire());
    }

    /** A sample that is the peak, against the estimate decayed until it comes, replaces the estimate. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "the estimate jumps to a higher sample at once, 1, 1, 50",
        "a sample is compared with the decayed estimate (about 5 ms after 30 s), 100, 30000, 10",
    })
    void aSampleAboveTheDecayedEstimateReplacesIt(String what, long firstMs, long gapMs, long secondMs) {
        acquireAndEnd(firstMs * MS, Outcome.SUCCESS);
        clock.advance(gapMs, TimeUnit.MILLISECONDS);
        acquireAndEnd(secondMs * MS, Outcome.SUCCESS);

        assertEquals(secondMs * MS, state.latencyEwmaNanos(), 1, what);
    }

    @Test
    void latencyEstimateDecaysTowardLowerSamplesWithTime() {
        acquireAndEnd(50 * MS, Outcome.SUCCESS);
        // One lower sample shortly after barely moves the peak...
        clock.advance(10, TimeUnit.MILLISECONDS);
        acquireAndEnd(1 * MS, Outcome.SUCCESS);
        assertTrue(state.latencyEwmaNanos() > 49 * MS, "estimate " + state.latencyEwmaNanos());

        // ...but a steady stream of fast answers over several decay periods brings it down.
        for (int i = 0; i < 1000; i++) {
            clock.advance(100, TimeUnit.MILLISECONDS);
            acquireAndEnd(1 * MS, Outcome.SUCCESS);
        }
        assertEquals(1 * MS, state.latencyEwmaNanos(), 0.1 * MS);
    }

    @Test
    void readingDecaysTheEstimateTowardZeroWhileIdle() {
        acquireAndEnd(20 * MS, Outcome.SUCCESS);
        long now = clock.nanoTime();

        assertEquals(20 * MS, state.latencyEwmaNanos(now), 1);
        double oneDecayLater = state.latencyEwmaNanos(now + BackendState.DEFAULT_DECAY_NANOS);
        assertEquals(20 * MS * Math.exp(-1), oneDecayLater, 1000);
        assertEquals(20 * MS, state.latencyEwmaNanos(), 1, "the stored estimate is not changed by reads");
    }

    @Test
    void connectFailuresAndCancellationsDoNotFeedTheLatencyEstimate() {
        acquireAndEnd(5 * MS, Outcome.SUCCESS);
        acquireAndEnd(1, Outcome.CONNECT_FAILURE);
        acquireAndEnd(900 * MS, Outcome.CANCELLED);

        assertEquals(5 * MS, state.latencyEwmaNanos(), 1);
        assertEquals(3, state.requests());
        assertEquals(1, state.errors());
    }

    @Test
    void timeoutsRaiseTheLatencyEstimate() {
        acquireAndEnd(5 * MS, Outcome.SUCCESS);
        acquireAndEnd(1000 * MS, Outcome.TIMEOUT);

        assertEquals(1000 * MS, state.latencyEwmaNanos(), 1);
    }

    @Test
    void recentErrorRateFollowsFailuresAndFadesAfterwards() {
        for (int i = 0; i < 200; i++) {
            clock.advance(100, TimeUnit.MILLISECONDS);
            acquireAndEnd(MS, i % 2 == 0 ? Outcome.SUCCESS : Outcome.SERVER_ERROR);
        }
        double rate = state.recentErrorRate(clock.nanoTime());
        assertTrue(rate > 0.4 && rate < 0.6, "rate " + rate);

        for (int i = 0; i < 400; i++) {
            clock.advance(100, TimeUnit.MILLISECONDS);
            acquireAndEnd(MS, Outcome.SUCCESS);
        }
        assertTrue(state.recentErrorRate(clock.nanoTime()) < 0.01);
        assertEquals(100, state.errors(), "the total count never fades");
    }

    @Test
    void reportedLoadIsClampedToUnitInterval() {
        long until = clock.nanoTime() + SECOND;
        state.setReportedLoad(1.7, until);
        assertEquals(1, state.reportedLoad());
        state.setReportedLoad(-0.2, until);
        assertEquals(0, state.reportedLoad());
        state.setReportedLoad(Double.NaN, until);
        assertEquals(0, state.reportedLoad());
        state.setReportedLoad(0.35, until);
        assertEquals(0.35, state.reportedLoad());
    }

    @Test
    void reportedLoadExpiresWhenNotReportedAgain() {
        state.setReportedLoad(0.9, clock.nanoTime() + SECOND);
        clock.advance(999, TimeUnit.MILLISECONDS);
        assertEquals(0.9, state.reportedLoad());
        clock.advance(1, TimeUnit.MILLISECONDS);
        assertEquals(0, state.reportedLoad(), "a figure the backend stopped reporting no longer counts");

        state.setReportedLoad(0.4, clock.nanoTime() + SECOND);
        assertEquals(0.4, state.reportedLoad(), "a new report counts again");
    }

    @Test
    void connectFailuresDoNotHoldTheLatencyEstimateAtItsOldValue() {
        acquireAndEnd(40 * MS, Outcome.SUCCESS);
        // The backend dies: requests fail to connect for a while, and it is then left alone.
        for (int i = 0; i < 20; i++) {
            clock.advance(1, TimeUnit.SECONDS);
            acquireAndEnd(0, Outcome.CONNECT_FAILURE);
        }
        // 20 s after its last answer the slow estimate has decayed as for a backend with no traffic.
        assertEquals(40 * MS * Math.exp(-2), state.latencyEwmaNanos(), 1000);
    }

    @Test
    void aConnectFailureHoldsTheBackendDownForAGrowingTime() {
        long base = SECOND;
        long max = 8 * SECOND;
        assertFalse(state.heldDown(clock.nanoTime()));
        assertEquals(base, state.holdDown(clock.nanoTime(), base, max));
        assertTrue(state.heldDown(clock.nanoTime()));
        clock.advance(base, TimeUnit.NANOSECONDS);
        assertFalse(state.heldDown(clock.nanoTime()), "over when its time is up");

        assertEquals(2 * base, state.holdDown(clock.nanoTime(), base, max));
        assertEquals(4 * base, state.holdDown(clock.nanoTime(), base, max));
        assertEquals(8 * base, state.holdDown(clock.nanoTime(), base, max));
        assertEquals(max, state.holdDown(clock.nanoTime(), base, max), "capped");
        for (int i = 0; i < 100; i++) {
            assertEquals(max, state.holdDown(clock.nanoTime(), base, max), "no overflow after many failures");
        }

        state.clearHoldDown();
        assertFalse(state.heldDown(clock.nanoTime()), "a connection that succeeds ends it");
        assertEquals(base, state.holdDown(clock.nanoTime(), base, max), "and the doubling starts over");
    }

    @Test
    void routableNeedsHealthyNotEjectedNotDraining() {
        assertTrue(state.routable());
        state.setHealthy(false);
        assertFalse(state.routable());
        state.setHealthy(true);
        state.eject(clock.nanoTime() + SLOW_START);
        assertFalse(state.routable());
        assertTrue(state.ejected());
        state.unEject();
        state.setDraining(true);
        assertFalse(state.routable());
        state.setDraining(false);
        assertTrue(state.routable());
    }

    @Test
    void noSlowStartUntilMarked() {
        assertEquals(1, state.slowStartFactor(clock.nanoTime(), SLOW_START));
    }

    @Test
    void slowStartRampsLinearlyFromTenPercentToFull() {
        state.markRecovered(clock.nanoTime());
        long start = clock.nanoTime();

        assertEquals(BackendState.MIN_SLOW_START_FACTOR, state.slowStartFactor(start, SLOW_START));
        assertEquals(0.1, state.slowStartFactor(start + SLOW_START / 20, SLOW_START), 1e-9);
        assertEquals(0.5, state.slowStartFactor(start + SLOW_START / 2, SLOW_START), 1e-9);
        assertEquals(1, state.slowStartFactor(start + SLOW_START, SLOW_START));
        assertEquals(1, state.slowStartFactor(start, 0), "a zero window disables slow start");
    }

    @Test
    void becomingRoutableAgainStartsSlowStart() {
        state.setHealthy(false);
        clock.advance(1, TimeUnit.SECONDS);
        state.setHealthy(true);
        assertEquals(clock.nanoTime(), state.recoveredAtNanos());

        clock.advance(1, TimeUnit.SECONDS);
        state.eject(Long.MAX_VALUE);
        state.unEject();
        assertEquals(clock.nanoTime(), state.recoveredAtNanos());

        clock.advance(1, TimeUnit.SECONDS);
        state.setDraining(true);
        state.setDraining(false);
        assertEquals(clock.nanoTime(), state.recoveredAtNanos());
    }

    @Test
    void flagChangesThatKeepItRoutableDoNotRestartSlowStart() {
        state.markRecovered(clock.nanoTime());
        long marked = state.recoveredAtNanos();
        clock.advance(1, TimeUnit.SECONDS);
        state.setHealthy(true);
        state.unEject();

        assertEquals(marked, state.recoveredAtNanos());
    }

    @Test
    void aFastFailureNeverLowersTheLatencyEstimate() {
        acquireAndEnd(20 * MS, Outcome.SUCCESS);
        clock.advance(1, TimeUnit.SECONDS);
        double before = state.latencyEwmaNanos();
        acquireAndEnd(MS / 10, Outcome.SERVER_ERROR);
        acquireAndEnd(MS / 10, Outcome.RESET);

        assertEquals(before, state.latencyEwmaNanos(), 1e-6, "a backend failing fast must not look fast");
        acquireAndEnd(50 * MS, Outcome.SERVER_ERROR);
        assertEquals(50 * MS, state.latencyEwmaNanos(), 1e-6, "a slow failure still raises it");
    }

    @Test
    void comingBackForgetsTheLatencyOfBefore() {
        acquireAndEnd(20 * MS, Outcome.SUCCESS);
        state.markRecovered(clock.nanoTime());

        assertEquals(0, state.latencyEwmaNanos(), "judged on what it shows from now on");
    }

    @Test
    void connectingAgainAfterAHoldDownStartsWarmUp() {
        state.holdDown(clock.nanoTime(), SECOND, 30 * SECOND);
        clock.advance(2, TimeUnit.SECONDS);
        assertEquals(1, state.slowStartFactor(clock.nanoTime(), SLOW_START), "not warming yet");

        state.clearHoldDown();

        assertEquals(BackendState.MIN_SLOW_START_FACTOR, state.slowStartFactor(clock.nanoTime(), SLOW_START),
                "a backend that refused connections and takes them again was most likely restarted");
        long start = state.recoveredAtNanos();
        state.clearHoldDown();
        assertEquals(start, state.recoveredAtNanos(), "nothing to clear: no new warm-up");
    }

    private void acquireAndEnd(long latencyNanos, Outcome outcome) {
        assertTrue(state.tryAcquire(Integer.MAX_VALUE));
        state.onRequestEnd(latencyNanos, outcome);
    }
}
