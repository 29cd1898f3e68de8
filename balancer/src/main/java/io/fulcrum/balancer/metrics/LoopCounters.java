package io.fulcrum.balancer.metrics;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A fixed number of counters kept per thread and summed when read: each thread that records gets
 * an array of its own, written only by that thread with plain increments (no compare-and-set, no
 * cache line shared with another event loop), and a reader, a scrape, sums the arrays. This is
 * what the request path records into, once per request, instead of Micrometer's counters and
 * timers, whose every increment is an atomic operation on memory the other loops write too.
 *
 * <p>Thread-safe: writes and reads are opaque (never torn, seen by a reader soon after); a read
 * taken while a thread records may see some of a request's increments and not yet the others. The
 * one write from outside, {@link #clear}, starts a window of a largest value: a value raised while
 * it runs may outlive it, which a maximum can afford and a count could not.
 * An array lives as long as these counters do, so what a thread counted stays counted after it ends.
 */
final class LoopCounters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final int slots;
    private final ThreadLocal<long[]> mine;
    private final List<long[]> all = new CopyOnWriteArrayList<>();

    LoopCounters(int slots) {
        this.slots = slots;
        this.mine = ThreadLocal.withInitial(this::newShard);
    }

    private long[] newShard() {
        long[] shard = new long[slots];
        all.add(shard);
        return shard;
    }

    /** The calling thread's array, for several {@link #add}s in a row. */
    long[] shard() {
        return mine.get();
    }

    /** Adds {@code delta} to {@code slot} of the calling thread's array, which {@link #shard} returned. */
    static void add(long[] shard, int slot, long delta) {
        LONGS.setOpaque(shard, slot, (long) LONGS.getOpaque(shard, slot) + delta);
    }

    /** Raises {@code slot} of the calling thread's array to {@code value} if it is below. */
    static void max(long[] shard, int slot, long value) {
        if (value > (long) LONGS.getOpaque(shard, slot)) {
            LONGS.setOpaque(shard, slot, value);
        }
    }

    /** The sum of {@code slot} over every thread's array. */
    long sum(int slot) {
        long sum = 0;
        for (long[] shard : all) {
            sum += (long) LONGS.getOpaque(shard, slot);
        }
        return sum;
    }

    /** The largest {@code slot} over every thread's array. */
    long max(int slot) {
        long max = 0;
        for (long[] shard : all) {
            max = Math.max(max, (long) LONGS.getOpaque(shard, slot));
        }
        return max;
    }

    /** Sets {@code slot} to 0 in every thread's array: a window of {@link #max} starts. */
    void clear(int slot) {
        for (long[] shard : all) {
            LONGS.setOpaque(shard, slot, 0L);
        }
    }

    /** Sums {@code length} slots from {@code from} over every thread's array into {@code into}. */
    void sum(int from, long[] into) {
        for (long[] shard : all) {
            for (int i = 0; i < into.length; i++) {
                into[i] += (long) LONGS.getOpaque(shard, from + i);
            }
        }
    }
}
