package io.fulcrum.balancer.edge;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.RateLimitConfig;
import java.util.concurrent.atomic.LongAdder;

/**
 * Token buckets per key in a table of fixed capacity: {@code max-keys} slots, allocated once, so
 * memory is bounded whatever the number of clients (24 to 28 bytes a slot plus the key strings it
 * holds).
 *
 * <p>The table is split into segments, each with its own small lock held for a few arithmetic
 * operations (never around I/O), so event loops contend only when two keys hash to the same
 * segment. A key lives in one of {@link #PROBES} consecutive slots of its segment. When all of them
 * are taken by other keys, the new key takes the slot whose bucket is fullest after refilling: a
 * full bucket carries no state at all (its key, back later, gets a full bucket anyway), so
 * evicting it is lossless. Only when the table is full of keys that are all being limited at once
 * does a key lose its state; that is counted ({@link #lossyEvictions()}), and such a key starts
 * again with a full bucket. A key seen before costs no allocation.
 *
 * <p>Thread-safe. Plain Java: it knows nothing of HTTP or Netty.
 */
public final class RateLimiter implements KeyedLimiter {
    /** Slots a key may live in; how far an insertion looks for a free or evictable slot. */
    static final int PROBES = 8;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final RateLimitConfig config;
    private final double tokensPerNano;
    private final double burst;
    private final Segment[] segments;
    private final int segmentMask;
    private final LongAdder limited = new LongAdder();
    private final LongAdder lossyEvictions = new LongAdder();

    public RateLimiter(RateLimitConfig config) {
        this.config = requireNonNull(config, "config");
        this.tokensPerNano = config.perSecond() / NANOS_PER_SECOND;
        this.burst = config.burst();
        int capacity = config.maxKeys();
        // Enough segments for event loops not to meet, few enough that each holds a probe run.
        int count = Integer.highestOneBit(Math.max(1, Math.min(64, capacity / (4 * PROBES))));
        segments = new Segment[count];
        int base = capacity / count;
        int extra = capacity % count;
        for (int i = 0; i < count; i++) {
            segments[i] = new Segment(base + (i < extra ? 1 : 0));
        }
        segmentMask = count - 1;
    }

    @Override
    public RateLimitConfig config() {
        return config;
    }

    /** The table's size in slots: the most keys it ever tracks. */
    public int capacity() {
        int n = 0;
        for (Segment s : segments) {
            n += s.keys.length;
        }
        return n;
    }

    /** Keys tracked now. */
    @Override
    public int keys() {
        int n = 0;
        for (Segment s : segments) {
            synchronized (s) {
                n += s.used;
            }
        }
        return n;
    }

    /** Requests refused since this limiter was made. */
    public long limited() {
        return limited.sum();
    }

    /** Keys that lost a bucket that was not full, because the table was full of limited keys. */
    public long lossyEvictions() {
        return lossyEvictions.sum();
    }

    @Override
    public long acquire(String key, long nowNanos) {
        int h = spread(key.hashCode());
        Segment s = segments[h & segmentMask];
        double wait;
        synchronized (s) {
            wait = s.take(key, h, nowNanos);
        }
        if (wait <= 0) {
            return 0;
        }
        limited.increment();
        return Math.max(1, (long) Math.ceil(wait / NANOS_PER_SECOND));
    }

    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        return h ^ (h >>> 13);
    }

    /** One part of the table; guarded by its own monitor. */
    private final class Segment {
        final String[] keys;
        final int[] hashes;
        final double[] tokens;
        final long[] stamps;
        int used;

        Segment(int slots) {
            keys = new String[slots];
            hashes = new int[slots];
            tokens = new double[slots];
            stamps = new long[slots];
        }

        /** Takes a token; returns 0 when granted, else the nanoseconds until one is back. */
        double take(String key, int h, long now) {
            int n = keys.length;
            int start = Math.floorMod(h >>> 6, n);
            int probes = Math.min(PROBES, n);
            int free = -1;
            int victim = -1;
            double victimTokens = -1;
            long victimStamp = Long.MAX_VALUE;
            for (int i = 0; i < probes; i++) {
                int slot = start + i < n ? start + i : start + i - n;
                String k = keys[slot];
                if (k == null) {
                    if (free < 0) {
                        free = slot;
                    }
                    continue;
                }
                if (hashes[slot] == h && k.equals(key)) {
                    return takeFrom(slot, now);
                }
                double t = refilled(slot, now);
                if (t > victimTokens || (t == victimTokens && stamps[slot] - victimStamp < 0)) {
                    victim = slot;
                    victimTokens = t;
                    victimStamp = stamps[slot];
                }
            }
            int slot = free;
            if (slot < 0) {
                slot = victim;
                if (victimTokens < burst) {
                    lossyEvictions.increment();
                }
            } else {
                used++;
            }
            keys[slot] = key;
            hashes[slot] = h;
            tokens[slot] = burst;
            stamps[slot] = now;
            return takeFrom(slot, now);
        }

        private double refilled(int slot, long now) {
            long elapsed = now - stamps[slot];
            return elapsed <= 0 ? tokens[slot] : Math.min(burst, tokens[slot] + elapsed * tokensPerNano);
        }

        private double takeFrom(int slot, long now) {
            double t = refilled(slot, now);
            if (now - stamps[slot] > 0) {
                stamps[slot] = now;
            }
            if (t >= 1) {
                tokens[slot] = t - 1;
                return 0;
            }
            tokens[slot] = t;
            return (1 - t) / tokensPerNano;
        }
    }
}
