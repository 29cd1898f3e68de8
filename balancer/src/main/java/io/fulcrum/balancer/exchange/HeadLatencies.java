package io.fulcrum.balancer.exchange;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A pool's observed time from a request sent to its response head, for the hedging routes'
 * {@code delay: p95}: a small histogram of log-spaced buckets (four per power of two, so a bucket
 * is at most about 19% wide), fed only by the requests of routes that hedge. Counts halve every
 * {@value #WINDOW} samples, so the p95 follows the pool as it changes. The p95 is computed again
 * every {@value #REFRESH} samples and read as one volatile field.
 *
 * <p>Thread-safe and lock-free; concurrent updates may lose a count while the counts halve, which
 * a percentile estimate can afford.
 */
final class HeadLatencies {
    /** Samples needed before a p95 is given. */
    static final int MIN_SAMPLES = 20;
    static final int WINDOW = 2048;
    static final int REFRESH = 16;
    private static final int PER_OCTAVE = 4;
    /** Microseconds up to 2^40 (about 12 days), the last bucket open-ended. */
    private static final int BUCKETS = 40 * PER_OCTAVE;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final AtomicLong samples = new AtomicLong();
    /** The last computed p95 in nanoseconds, or -1 before {@link #MIN_SAMPLES}. */
    private volatile long p95 = -1;

    /** Counts one request whose head came {@code nanos} after it was sent. */
    void record(long nanos) {
        counts.incrementAndGet(bucket(nanos));
        long n = samples.incrementAndGet();
        if (n >= WINDOW && samples.compareAndSet(n, n / 2)) {
            for (int i = 0; i < BUCKETS; i++) {
                counts.getAndUpdate(i, c -> c / 2);
            }
        }
        if (n % REFRESH == 0 || n == MIN_SAMPLES) {
            p95 = percentile(0.95);
        }
    }

    /** The observed p95 in nanoseconds (a bucket's upper edge), or -1 while too few requests were seen. */
    long p95Nanos() {
        return p95;
    }

    private long percentile(double q) {
        long total = 0;
        for (int i = 0; i < BUCKETS; i++) {
            total += counts.get(i);
        }
        if (total < MIN_SAMPLES) {
            return -1;
        }
        long rank = (long) Math.ceil(total * q);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return upperEdgeNanos(i);
            }
        }
        return upperEdgeNanos(BUCKETS - 1);
    }

    static int bucket(long nanos) {
        long micros = Math.max(1, nanos / 1000);
        int octave = 63 - Long.numberOfLeadingZeros(micros);
        int sub = octave >= 2 ? (int) (micros >>> (octave - 2)) & 3 : (int) (micros << (2 - octave)) & 3;
        return Math.min(BUCKETS - 1, octave * PER_OCTAVE + sub);
    }

    /** The least value above every sample of bucket {@code i}, in nanoseconds. */
    static long upperEdgeNanos(int i) {
        int octave = i / PER_OCTAVE;
        long sub = i % PER_OCTAVE;
        return ((PER_OCTAVE + 1 + sub) << octave) / PER_OCTAVE * 1000;
    }
}
