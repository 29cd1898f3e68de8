package io.fulcrum.node.store;

import java.util.ArrayDeque;

/**
 * How long a replica has been behind its primary, measured from samples of both WAL positions.
 *
 * <p>Each sample of the primary's position is kept, with the (monotonic) time it was taken, until the
 * replica has replayed past it. The lag is the age of the oldest sample the replica has not reached:
 * how long ago the primary was at a point that the replica still lacks. An idle but caught-up replica
 * thus has no lag, however old its last replayed transaction, and a paused one lags by the time since
 * the first write it missed. The resolution is the sampling interval. While the primary cannot be
 * sampled no new samples come, so an outage of the primary does not make a caught-up replica look stale.
 *
 * <p>At most {@value #MAX_SAMPLES} samples are kept; past that the newest sample is replaced, which
 * keeps the oldest (the one the lag is measured from) exact.
 *
 * <p>Thread-safe: updates are synchronized; {@link #lagNanos} and the positions read volatile fields.
 */
final class ReplicaLag {
    static final int MAX_SAMPLES = 4096;

    private final ArrayDeque<long[]> pending = new ArrayDeque<>();
    private volatile long primary;
    private volatile long replayed;
    /** Monotonic time of the oldest sample not yet replayed; meaningful only while {@link #behind}. */
    private volatile long behindSince;
    private volatile boolean behind;

    /** Records the primary at {@code position} at monotonic time {@code nanos}. */
    synchronized void primaryAt(long position, long nanos) {
        if (WalPosition.after(position, primary)) {
            primary = position;
        }
        if (!WalPosition.after(position, replayed)) {
            return;
        }
        long[] last = pending.peekLast();
        if (last != null && !WalPosition.after(position, last[0])) {
            return;
        }
        if (pending.size() >= MAX_SAMPLES) {
            pending.pollLast();
        }
        pending.addLast(new long[] {position, nanos});
        update();
    }

    /** Records that the replica has replayed up to {@code position}. */
    synchronized void replicaAt(long position) {
        replayed = position;
        while (!pending.isEmpty() && !WalPosition.after(pending.peekFirst()[0], position)) {
            pending.pollFirst();
        }
        update();
    }

    private void update() {
        long[] oldest = pending.peekFirst();
        if (oldest != null) {
            behindSince = oldest[1];
        }
        behind = oldest != null;
    }

    /** The replica's lag at monotonic time {@code nowNanos}, 0 when it has everything sampled. */
    long lagNanos(long nowNanos) {
        if (!behind) {
            return 0;
        }
        return Math.max(0, nowNanos - behindSince);
    }

    /** The last sampled position of the primary, 0 before the first sample. */
    long primary() {
        return primary;
    }

    /** The last known replay position of the replica, 0 before the first sample. */
    long replayed() {
        return replayed;
    }
}
