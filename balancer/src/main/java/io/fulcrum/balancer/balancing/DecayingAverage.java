package io.fulcrum.balancer.balancing;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A decayed average of samples. Reads fade it toward zero for the time since the last sample (time
 * constant {@code fade}), so a backend that gets no traffic is tried again. Three kinds:
 * <ul>
 *   <li>{@link #peak}: Finagle's and Linkerd's peak EWMA. A sample above the faded estimate
 *       replaces it at once; a lower one taken {@code dt} after the previous weighs
 *       {@code 1 − exp(−dt / fade)}.</li>
 *   <li>{@link #mean}: a plain average by time: a sample taken {@code dt} after the previous one
 *       weighs {@code 1 − exp(−dt / window)}, so the estimate follows roughly the last
 *       {@code window} whatever the request rate; the first sample of an empty estimate is taken
 *       whole.</li>
 *   <li>{@link #byCount}: each sample weighs the same {@code 1 / n}, an average over about the last
 *       {@code n} samples. Right for a rate of outcomes whose timing depends on the outcome (a fast
 *       failure follows the previous sample closely and would weigh little by time).</li>
 * </ul>
 * The last two move the stored estimate, not the one faded for reading: sparse samples are not
 * pulled toward zero.
 *
 * <p>Thread-safe and lock-free: the value is updated with a CAS loop; its timestamp is written
 * separately, so two samples at the same instant on different threads may decay by a slightly
 * wrong interval, an error bounded by the time between them and harmless for a load heuristic.
 */
final class DecayingAverage {
    private final double fadeNanos;
    /** The time window of {@link #mean}, or 0. */
    private final double windowNanos;
    /** The weight of a sample of {@link #byCount}, or 0. */
    private final double countWeight;
    /** {@link Double} bits of the estimate as of {@link #stampNanos}. */
    private final AtomicLong bits = new AtomicLong(Double.doubleToRawLongBits(0));
    private volatile long stampNanos;

    private DecayingAverage(long fadeNanos, long windowNanos, double countWeight, long nowNanos) {
        if (fadeNanos <= 0) {
            throw new IllegalArgumentException("fadeNanos: " + fadeNanos + " (expected: > 0)");
        }
        this.fadeNanos = fadeNanos;
        this.windowNanos = windowNanos;
        this.countWeight = countWeight;
        this.stampNanos = nowNanos;
    }

    /** A peak EWMA with time constant {@code decayNanos}. */
    static DecayingAverage peak(long decayNanos, long nowNanos) {
        return new DecayingAverage(decayNanos, 0, 0, nowNanos);
    }

    /** A plain average over about the last {@code windowNanos}, read fading with {@code fadeNanos}. */
    static DecayingAverage mean(long windowNanos, long fadeNanos, long nowNanos) {
        if (windowNanos <= 0) {
            throw new IllegalArgumentException("windowNanos: " + windowNanos + " (expected: > 0)");
        }
        return new DecayingAverage(fadeNanos, windowNanos, 0, nowNanos);
    }

    /** An average over about the last {@code samples} samples, read fading with {@code fadeNanos}. */
    static DecayingAverage byCount(int samples, long fadeNanos, long nowNanos) {
        if (samples < 1) {
            throw new IllegalArgumentException("samples: " + samples + " (expected: >= 1)");
        }
        return new DecayingAverage(fadeNanos, 0, 1.0 / samples, nowNanos);
    }

    /**
     * Adds a sample at {@code nowNanos}; with {@code raiseOnly}, a sample at or below the estimate
     * is dropped (it may only raise it).
     */
    void add(double sample, long nowNanos, boolean raiseOnly) {
        long elapsed = Math.max(0, nowNanos - stampNanos);
        while (true) {
            long current = bits.get();
            double stored = Double.longBitsToDouble(current);
            double next;
            if (windowNanos > 0) {
                next = stored == 0 ? sample : stored + (sample - stored) * -expm1(-elapsed / windowNanos);
            } else if (countWeight > 0) {
                next = stored + (sample - stored) * countWeight;
            } else {
                double w = exp(-elapsed / fadeNanos);
                stored *= w;
                next = sample > stored ? sample : stored + sample * (1 - w);
            }
            if (raiseOnly && sample <= stored) {
                return;
            }
            if (bits.compareAndSet(current, Double.doubleToRawLongBits(next))) {
                break;
            }
        }
        long stamp = stampNanos;
        if (nowNanos - stamp > 0) {
            stampNanos = nowNanos;
        }
    }

    /** The estimate faded to {@code nowNanos}; 0 before any sample. */
    double value(long nowNanos) {
        long elapsed = nowNanos - stampNanos;
        double v = Double.longBitsToDouble(bits.get());
        return elapsed <= 0 ? v : v * exp(-elapsed / fadeNanos);
    }

    /**
     * {@code exp(x) - 1} for {@code x <= 0}. Between samples microseconds to milliseconds apart and
     * windows of seconds, {@code x} is between about -1e-6 and -1e-2; within 0.05 of zero eight
     * terms of the series are within {@code x^8 / 9! < 1e-15} of it, relatively, and cost a few
     * multiplications where {@link Math#expm1} (not an intrinsic: a native call) costs a hundred
     * nanoseconds. Samples arrive once per request, so this is on the request path.
     */
    static double expm1(double x) {
        if (x > -0.05) {
            return x * (1 + x * (1.0 / 2 + x * (1.0 / 6 + x * (1.0 / 24 + x * (1.0 / 120 + x * (1.0 / 720
                    + x * (1.0 / 5040 + x * (1.0 / 40320))))))));
        }
        return Math.expm1(x);
    }

    /** {@code exp(x)} for {@code x <= 0}: near zero from the series of {@link #expm1}, else {@link Math#exp}. */
    static double exp(double x) {
        return x > -0.05 ? 1 + expm1(x) : Math.exp(x);
    }

    /** Forgets every sample: the estimate is 0 (unknown) again. */
    void reset(long nowNanos) {
        bits.set(Double.doubleToRawLongBits(0));
        stampNanos = nowNanos;
    }
}
