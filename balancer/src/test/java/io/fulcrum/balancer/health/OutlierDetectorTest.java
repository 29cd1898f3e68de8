package io.fulcrum.balancer.health;

import static io.fulcrum.balancer.health.HealthFixtures.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.OutlierConfig;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class OutlierDetectorTest {
    private static final Duration BASE = Duration.ofSeconds(10);
    private static final Duration MAX = Duration.ofSeconds(25);
    private static final Duration SLOW_START = Duration.ofSeconds(30);

    private final HealthFixtures.FakeClock clock = new HealthFixtures.FakeClock();
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
    private final BackendRegistry registry = new BackendRegistry("local", HealthFixtures.routing(SLOW_START),
            List.of(HealthFixtures.config("b1", 9001), HealthFixtures.config("b2", 9002),
                    HealthFixtures.config("b3", 9003), HealthFixtures.config("b4", 9004)),
            clock, new SplittableRandom(7));
    private final OutlierDetector detector =
            new OutlierDetector(registry, new OutlierConfig(5, BASE, MAX, 50), control, clock);

    @AfterEach
    void stop() {
        control.shutdownNow();
    }

    private Backend b(String id) {
        return registry.current().byId(id);
    }

    private void fail(String id, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            detector.onOutcome(b(id), Outcome.SERVER_ERROR);
        }
        drain(control);
    }

    /** Failures as the proxy reports them: the backend's state records each, then the detector sees it. */
    private void failRecorded(String id, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            assertTrue(b(id).tryAcquire());
            b(id).state().onRequestEnd(100_000, Outcome.SERVER_ERROR, clock.nanoTime());
            detector.onOutcome(b(id), Outcome.SERVER_ERROR);
        }
        drain(control);
    }

    @Test
    void aBackendThatTurnsBadAtOnceIsEjectedAfterConsecutiveFailures() throws Exception {
        failRecorded("b2", 5);
        assertTrue(b("b2").state().ejected(), "its own failures do not make its rate explain the run");
    }

    @Test
    void ejectsAfterConsecutiveFailuresForTheBaseTime() throws Exception {
        long generation = registry.current().generation();
        fail("b1", 4);
        assertFalse(b("b1").state().ejected());
        fail("b1", 1);
        assertTrue(b("b1").state().ejected());
        assertFalse(b("b1").state().routable());
        assertEquals(clock.nanoTime() + BASE.toNanos(), b("b1").state().ejectedUntilNanos());
        assertEquals(1, b("b1").state().ejections());
        assertTrue(registry.current().generation() > generation, "the snapshot was rebuilt");
    }

    @ParameterizedTest(name = "failure rate {0}: {1} in a row")
    @CsvSource({"0, 5", "0.05, 5", "0.3, 10", "0.5, 17", "0.79, 49", "0.8, 5", "1, 5"})
    void theRunThatEjectsGrowsWithAFailureRateThatExplainsIt(double rate, int run) {
        assertEquals(run, detector.runNeeded(rate));
    }

    @Test
    void aBackendFailingAThirdOfItsRequestsIsNotEjectedForFiveInARow() throws Exception {
        // b1 has failed about 30 % of its requests for a minute, one request every 10 ms.
        BackendState s = b("b1").state();
        for (int i = 0; i < 6000; i++) {
            clock.advance(Duration.ofMillis(10));
            assertTrue(b("b1").tryAcquire());
            Outcome o = i % 10 < 3 ? Outcome.SERVER_ERROR : Outcome.SUCCESS;
            s.onRequestEnd(1_000_000, o, clock.nanoTime());
        }
        failRecorded("b1", 8);
        assertFalse(s.ejected(), "eight in a row is likely enough at 30 %");
        failRecorded("b1", 4);
        assertTrue(s.ejected(), "twelve in a row is not");
    }

    @ParameterizedTest
    @EnumSource(value = Outcome.class, names = {"SERVER_ERROR", "CONNECT_FAILURE", "RESET", "TIMEOUT"})
    void everyFailureKindCounts(Outcome outcome) throws Exception {
        for (int i = 0; i < 5; i++) {
            detector.onOutcome(b("b2"), outcome);
        }
        drain(control);
        assertTrue(b("b2").state().ejected());
    }

    /** A success ends the run of failures; a cancelled request counts neither way. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"SUCCESS, 4, false, 4", "CANCELLED, 1, true, 0"})
    void anOutcomeBetweenFailuresEndsTheRunOrNot(Outcome between, int failuresAfter, boolean ejected, int inARow)
            throws Exception {
        fail("b1", 4);
        detector.onOutcome(b("b1"), between);
        fail("b1", failuresAfter);
        assertEquals(ejected, b("b1").state().ejected());
        assertEquals(inARow, b("b1").state().consecutiveFailures());
    }

    @Test
    void returnsWhenTheTimeIsUpAndRampsUpThroughSlowStart() throws Exception {
        fail("b1", 5);
        clock.advance(BASE.minusMillis(1));
        detector.expireEjections();
        assertTrue(b("b1").state().ejected());
        clock.advance(Duration.ofMillis(1));
        detector.expireEjections();
        assertFalse(b("b1").state().ejected());
        assertTrue(b("b1").state().routable());
        assertEquals(clock.nanoTime(), b("b1").state().recoveredAtNanos());
        assertEquals(0.1, b("b1").state().slowStartFactor(clock.nanoTime(), SLOW_START.toNanos()), 1e-9);
    }

    @Test
    void eachRepeatEjectionIsLongerUpToTheCap() throws Exception {
        long[] lengths = new long[4];
        for (int round = 0; round < lengths.length; round++) {
            fail("b1", 5);
            assertTrue(b("b1").state().ejected(), "round " + round);
            lengths[round] = b("b1").state().ejectedUntilNanos() - clock.nanoTime();
            clock.advance(Duration.ofNanos(lengths[round]));
            detector.expireEjections();
            assertFalse(b("b1").state().ejected());
        }
        assertEquals(BASE.toNanos(), lengths[0]);
        assertEquals(2 * BASE.toNanos(), lengths[1], "the second ejection is twice the first");
        assertEquals(MAX.toNanos(), lengths[2], "capped at max-ejection");
        assertEquals(MAX.toNanos(), lengths[3]);
        assertEquals(4, b("b1").state().ejections());
    }

    @Test
    void aBackendThatBehavesForLongerThanTheCapStartsOverAtTheBaseTime() throws Exception {
        fail("b1", 5);
        clock.advance(BASE);
        detector.expireEjections();
        clock.advance(MAX.plusSeconds(1));
        fail("b1", 5);
        assertEquals(BASE.toNanos(), b("b1").state().ejectedUntilNanos() - clock.nanoTime());
    }

    @Test
    void neverEjectsMoreThanMaxEjectedPercentOfThePool() throws Exception {
        fail("b1", 5);
        fail("b2", 5);
        fail("b3", 5);
        fail("b3", 5);
        assertTrue(b("b1").state().ejected());
        assertTrue(b("b2").state().ejected());
        assertFalse(b("b3").state().ejected(), "50% of 4 backends is 2");
        assertTrue(detector.refusedEjections() >= 1);

        clock.advance(BASE);
        detector.expireEjections();
        fail("b3", 1);
        assertTrue(b("b3").state().ejected(), "ejected once there is room, on its next failure");
    }

    @Test
    void zeroPercentNeverEjects() throws Exception {
        OutlierDetector none = new OutlierDetector(registry, new OutlierConfig(1, BASE, MAX, 0), control, clock);
        none.onOutcome(b("b1"), Outcome.RESET);
        drain(control);
        assertFalse(b("b1").state().ejected());
    }

    @Test
    void healthChecksComingBackUpEndAnEjectionEarly() throws Exception {
        fail("b1", 5);
        detector.onHealthTransition(new HealthTransition("b1", false, 3, "down"));
        assertTrue(b("b1").state().ejected());
        detector.onHealthTransition(new HealthTransition("b1", true, 2, "up"));
        assertFalse(b("b1").state().ejected());
    }

    @Test
    void theScheduledExpiryRunsOnTheControlThread() throws Exception {
        OutlierDetector quick = new OutlierDetector(registry,
                new OutlierConfig(1, Duration.ofMillis(50), Duration.ofMillis(50), 50), control, clock);
        quick.onOutcome(b("b4"), Outcome.CONNECT_FAILURE);
        drain(control);
        assertTrue(b("b4").state().ejected());
        clock.advance(Duration.ofMillis(50));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> !b("b4").state().ejected());
    }

    @Test
    void keepsStateAcrossAReloadThatKeepsTheId() throws Exception {
        fail("b1", 5);
        List<BackendConfig> next = List.of(HealthFixtures.config("b1", 9001), HealthFixtures.config("b5", 9005));
        registry.update("local", HealthFixtures.routing(SLOW_START), next);
        assertTrue(b("b1").state().ejected());
        clock.advance(BASE);
        detector.expireEjections();
        assertFalse(b("b1").state().ejected());
    }

    @Test
    void aConnectFailureHoldsTheBackendDownAtOnceWhateverTheEjectionCap() throws Exception {
        OutlierDetector strict = new OutlierDetector(registry, new OutlierConfig(5, BASE, MAX, 0,
                Duration.ofSeconds(1), Duration.ofSeconds(4)), control, clock);
        Backend b1 = b("b1");

        strict.onOutcome(b1, Outcome.CONNECT_FAILURE);
        assertTrue(b1.state().heldDown(clock.nanoTime()), "one refused connect is enough");
        assertFalse(b1.state().ejected(), "hold-down is not ejection and needs no snapshot rebuild");
        assertEquals(1, strict.holdDowns());

        clock.advance(Duration.ofSeconds(1));
        assertFalse(b1.state().heldDown(clock.nanoTime()));
        strict.onOutcome(b1, Outcome.CONNECT_FAILURE);
        clock.advance(Duration.ofMillis(1999));
        assertTrue(b1.state().heldDown(clock.nanoTime()), "the second in a row holds it down twice as long");

        strict.onOutcome(b1, Outcome.SERVER_ERROR);
        assertFalse(b1.state().heldDown(clock.nanoTime()), "an answer, even a 5xx, proves it accepts connections");
    }

    @Test
    void healthChecksComingUpEndAHoldDown() throws Exception {
        Backend b2 = b("b2");
        detector.onOutcome(b2, Outcome.CONNECT_FAILURE);
        assertTrue(b2.state().heldDown(clock.nanoTime()));

        control.submit(() -> detector.onHealthTransition(new HealthTransition("b2", true, 2, "up"))).get();
        assertFalse(b2.state().heldDown(clock.nanoTime()));
    }

    @Test
    void holdDownZeroTurnsItOff() {
        OutlierDetector off = new OutlierDetector(registry, new OutlierConfig(5, BASE, MAX, 50, Duration.ZERO,
                Duration.ZERO), control, clock);
        off.onOutcome(b("b3"), Outcome.CONNECT_FAILURE);
        assertFalse(b("b3").state().heldDown(clock.nanoTime()));
    }
}
