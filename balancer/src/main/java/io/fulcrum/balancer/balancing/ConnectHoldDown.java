package io.fulcrum.balancer.balancing;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A backend's connect failures in a row and the hold-down they start: after a failure the backend
 * is left out for {@code base} × 2^(failures in a row − 1), at most {@code max}; a connection that
 * succeeds ends it and the doubling starts over.
 *
 * <p>Thread-safe and lock-free: the event loops of every client connection fail and succeed at
 * this backend at once, so the run (failures, whether held, until when) is one immutable value
 * replaced by CAS, and a failure and a success each see and leave the whole of it.
 */
final class ConnectHoldDown {
    /** What one failure did: the hold-down length chosen, the run's length, and whether it started one. */
    record Failure(long lengthNanos, int inARow, boolean started) {
    }

    /** The run: {@code failures} in a row (0 in {@link #NONE}), {@code held} until {@code untilNanos}. */
    private record Run(int failures, boolean held, long untilNanos) {
        static final Run NONE = new Run(0, false, 0);

        boolean heldAt(long nowNanos) {
            return held && nowNanos - untilNanos < 0;
        }
    }

    private final AtomicReference<Run> run = new AtomicReference<>(Run.NONE);
    private final AtomicLong started = new AtomicLong();

    /** Whether a hold-down is in force at {@code nowNanos}: one volatile read, cheap for every selection. */
    boolean heldAt(long nowNanos) {
        return run.get().heldAt(nowNanos);
    }

    /** The end of the current hold-down, meaningful while {@link #heldAt(long)}. */
    long untilNanos() {
        return run.get().untilNanos();
    }

    /** Connect failures in a row. */
    int failures() {
        return run.get().failures();
    }

    /** Hold-downs started (a failure while held down extends one and does not count). */
    long started() {
        return started.get();
    }

    /**
     * Counts a failure and holds down for the doubled length; a hold-down in force is extended, never
     * shortened. Of failures at the same moment, one starts the hold-down and each counts in the run.
     */
    Failure fail(long nowNanos, long baseNanos, long maxNanos) {
        while (true) {
            Run current = run.get();
            int n = current.failures() + 1;
            long length = Math.min(baseNanos, maxNanos);
            for (int i = 1; i < n && length < maxNanos; i++) {
                length = length > maxNanos / 2 ? maxNanos : length * 2;
            }
            long until = nowNanos + length;
            boolean starts = !current.heldAt(nowNanos);
            Run next = new Run(n, true, starts || until - current.untilNanos() > 0 ? until : current.untilNanos());
            if (run.compareAndSet(current, next)) {
                if (starts) {
                    started.incrementAndGet();
                }
                return new Failure(length, n, starts);
            }
        }
    }

    /**
     * Ends the run: no hold-down, and the doubling starts over. One volatile read when there is
     * nothing to clear, as on nearly every request. Returns whether a hold-down had been started.
     */
    boolean clear() {
        while (true) {
            Run current = run.get();
            if (current == Run.NONE) {
                return false;
            }
            if (run.compareAndSet(current, Run.NONE)) {
                return current.held();
            }
        }
    }
}
