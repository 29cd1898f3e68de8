package io.fulcrum.balancer.balancing;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A decayed average of samples. Reads decay it toward zero for the time since the last sample
 * (time constant {@code decay}). A sample is weighed in one of two ways:
 * <ul>
 *   <li>by time (Finagle's and Linkerd's EWMA, {@link #byTime}): a sample taken {@code dt} after the
 *       previous one weighs {@code 1 − exp(−dt / decay)}, so the estimate follows roughly the last
 *       {@code decay} of time whatever the request rate. Right for latency; wrong for a rate of
 *       outcomes whose timing depends on the outcome (a fast failure follows the previous sample
 *       closely and would weigh little);</li>
 *   <li>by count ({@link #byCount}): each sample weighs the same {@code 1 / n}, an average over about
 *       the last {@code n} samples; a sample moves the stored estimate, not the one faded for
 *       reading, so sparse samples are not pulled toward zero.</li>
 * </ul>
 * A <em>peak</em> sample above the current estimate replaces it at once.
 *
 * <p>Thread-safe and lock-free: the value is updated with a CAS loop; its timestamp is written
 * separately, so two samples at the same instant on different threads may decay by a slightly
 * wrong interval, an error bounded by the time between them and harmless for a load heuristic.
 */
final class DecayingAverage {
    private final double decayNanos;
    /** The weight of a sample by count, or 0 to weigh by time. */
    private final double countWeight;
    /** {@link Double} bits of the estimate as of {@link #stampNanos}. */
    private final AtomicLong bits = new AtomicLong(Double.doubleToRawLongBits(0));
    private volatile long stampNanos;

    private DecayingAverage(long decayNanos, double countWeight, long nowNanos) {
        if (decayNanos <= 0) {
            throw new IllegalArgumentException("decayNanos: " + decayNanos + " (expected: > 0)");
        }
        this.decayNanos = decayNanos;
        this.countWeight = countWeight;
        this.stampNanos = nowNanos;
    }

    /** Samples weighed by the time since the previous one. */
    static DecayingAverage byTime(long decayNanos, long nowNanos) {
        return new DecayingAverage(decayNanos, 0, nowNanos);
    }

    /** Samples weighed 1 / {@code samples} each. */
    static DecayingAverage byCount(int samples, long decayNanos, long nowNanos) {
        if (samples < 1) {
            throw new IllegalArgumentException("samples: " + samples + " (expected: >= 1)");
        }
        return new DecayingAverage(decayNanos, 1.0 / samples, nowNanos);
    }

    /**
     * Adds a sample at {@code nowNanos}.
     *
     * @param peak a sample above the decayed estimate replaces it instead of being averaged in
     * @param raiseOnly a sample below the decayed estimate is dropped (it may only raise it)
     */
    void add(double sample, long nowNanos, boolean peak, boolean raiseOnly) {
        double w = weight(nowNanos);
        while (true) {
            long current = bits.get();
            double stored = Double.longBitsToDouble(current);
            double decayed = countWeight > 0 ? stored : stored * w;
            if (raiseOnly && sample <= decayed) {
                return;
            }
            double next = peak && sample > decayed ? sample
                    : countWeight > 0 ? decayed + (sample - decayed) * countWeight
                    : decayed + sample * (1 - w);
            if (bits.compareAndSet(current, Double.doubleToRawLongBits(next))) {
                break;
            }
        }
        long stamp = stampNanos;
        if (nowNanos - stamp > 0) {
            stampNanos = nowNanos;
        }
    }

    /** The estimate decayed to {@code nowNanos}; 0 before any sample. */
    double value(long nowNanos) {
        return Double.longBitsToDouble(bits.get()) * weight(nowNanos);
    }

    /** Forgets every sample: the estimate is 0 (unknown) again. */
    void reset(long nowNanos) {
        bits.set(Double.doubleToRawLongBits(0));
        stampNanos = nowNanos;
    }

    /** exp(-elapsed / decay): how much of the estimate still counts at {@code nowNanos}. */
    private double weight(long nowNanos) {
        long elapsed = nowNanos - stampNanos;
        return elapsed <= 0 ? 1 : Math.exp(-elapsed / decayNanos);
    }
}
