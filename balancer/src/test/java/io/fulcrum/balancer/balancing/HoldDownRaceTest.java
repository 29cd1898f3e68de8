package io.fulcrum.balancer.balancing;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * A backend's hold-down is changed by every event loop whose request to it ends: connect failures
 * start or extend it, a connection that works ends it. Two threads play two loops, released
 * together round after round (they spin between rounds, so that both run when released), each
 * going through the same 256 backends in the same order so that their calls on one backend
 * overlap; between rounds one of them checks what the round left. A race shows in some rounds
 * only, so there are many, for at most a few seconds; each of these checks failed within about a
 * second when the hold-down was two volatile fields and a counter, checked and then set.
 */
class HoldDownRaceTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final int MAX_ROUNDS = 200_000;
    private static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(4);

    private final FakeClock clock = new FakeClock();
    /** Many backends, gone through in the same order by both racers: many races per round. */
    private final BackendState[] states = new BackendState[256];

    {
        for (int i = 0; i < states.length; i++) {
            states[i] = new BackendState(clock);
        }
    }

    @Test
    void twoConnectFailuresAtOnceStartOneHoldDownAndBothCount() throws Exception {
        long now = clock.nanoTime();
        long[] holdDownsBefore = new long[states.length];
        String wrong = race(() -> {
            for (int i = 0; i < states.length; i++) {
                states[i].clearHoldDown();
                holdDownsBefore[i] = states[i].holdDowns();
            }
        }, racer -> {
            for (BackendState s : states) {
                s.holdDown(now, SECOND, 30 * SECOND);
            }
        }, () -> {
            for (int i = 0; i < states.length; i++) {
                BackendState s = states[i];
                long started = s.holdDowns() - holdDownsBefore[i];
                if (started != 1) {
                    return "two failures at once started " + started + " hold-downs";
                }
                if (s.connectFailures() != 2 || !s.heldDown(now)) {
                    return "held down " + s.heldDown(now) + " after " + s.connectFailures() + " of 2 failures";
                }
            }
            return null;
        });
        assertNull(wrong);
    }

    @Test
    void aConnectThatWorksAndAFailureAtOnceLeaveAHoldDownOnlyWithAFailureAfterTheSuccess() throws Exception {
        long now = clock.nanoTime();
        String wrong = race(() -> {
            for (BackendState s : states) {
                s.clearHoldDown();
                s.holdDown(now, SECOND, 30 * SECOND);
            }
        }, racer -> {
            for (BackendState s : states) {
                if (racer == 0) {
                    s.holdDown(now, SECOND, 30 * SECOND);
                } else {
                    s.clearHoldDown();
                }
            }
        }, () -> {
            for (BackendState s : states) {
                // Success last: no failures, no hold-down. Failure last: both.
                int failures = s.connectFailures();
                boolean held = s.heldDown(now);
                if (held != (failures > 0)) {
                    return (held ? "held down" : "not held down") + " with " + failures + " failures in a row";
                }
            }
            return null;
        });
        assertNull(wrong);
    }

    /** What one racer does in a round. */
    private interface Step {
        void run(int racer);
    }

    /** What a round left, or {@code null} when it is right. */
    private interface Check {
        String wrong();
    }

    /**
     * Runs rounds of {@code setup}, {@code step} on both racers at once, and {@code check}, until a
     * check fails or the rounds or the time run out, and returns the failure. Racer 0 also sets up
     * and checks, while racer 1 waits: two threads in all, for machines of two cores.
     */
    private static String race(Runnable setup, Step step, Check check) throws Exception {
        AtomicInteger arrivals = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> wrong = new AtomicReference<>();
        AtomicInteger rounds = new AtomicInteger();
        long start = System.nanoTime();
        List<Future<?>> racers = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < 2; i++) {
                int racer = i;
                racers.add(threads.submit(() -> {
                    int phase = 0;
                    while (true) {
                        if (racer == 0) {
                            if (rounds.get() == MAX_ROUNDS || System.nanoTime() - start > MAX_NANOS) {
                                stop.set(true);
                            } else {
                                setup.run();
                            }
                        }
                        awaitOther(arrivals, ++phase);
                        if (stop.get()) {
                            return null;
                        }
                        step.run(racer);
                        awaitOther(arrivals, ++phase);
                        if (racer == 0) {
                            int round = rounds.incrementAndGet();
                            String w = check.wrong();
                            if (w != null) {
                                wrong.set("round " + round + ": " + w);
                                stop.set(true);
                            }
                        }
                    }
                }));
            }
            for (Future<?> f : racers) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        return wrong.get();
    }

    /** Both racers meet here for the {@code phase}th time; spins, then yields. */
    private static void awaitOther(AtomicInteger arrivals, int phase) {
        arrivals.incrementAndGet();
        spinUntil(() -> arrivals.get() >= 2 * phase);
    }

    /**
     * Spins, then yields (the machine may have fewer cores than threads that want one); gives up
     * when interrupted, as when the other racer failed and the threads are shut down.
     */
    private static void spinUntil(BooleanSupplier condition) {
        for (int spins = 0; !condition.getAsBoolean(); spins++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("interrupted while waiting for the other racer");
            }
            if (spins < 1000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
