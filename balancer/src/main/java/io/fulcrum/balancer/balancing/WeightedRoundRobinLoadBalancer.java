package io.fulcrum.balancer.balancing;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

/**
 * Smooth weighted round-robin, as nginx does it: with weights 5:1:1 the order is
 * {@code a a b a c a a}, not {@code a a a a a b c}, so a heavy backend never gets a burst.
 *
 * <p>The nginx algorithm keeps a mutable "current weight" per backend, which would need a lock
 * across event loops. Its output for fixed weights is periodic, so the period is computed once
 * here and the hot path only takes the next position from an {@link AtomicLong}. The position is
 * shared with the balancer this one replaces, so a snapshot swap (every health flip causes one)
 * continues the rotation instead of restarting it on the first backend.
 *
 * <p>A turn whose backend is full, down or excluded moves on to the next positions of the period;
 * a backend in slow start keeps a turn only with probability equal to its ramp. Thread-safe and
 * allocation-free.
 */
final class WeightedRoundRobinLoadBalancer extends PolicyLoadBalancer {
    /** Longest period kept; larger weight sums are scaled down to fit (shares stay within 1/4096). */
    static final int MAX_PERIOD = 1 << 14;
    /** Positions tried before falling back to a scan of all candidates. */
    private static final int PROBES = 8;

    private final int[] schedule;
    private final AtomicLong position;

    WeightedRoundRobinLoadBalancer(List<Backend> backends, NanoClock clock, RandomGenerator random,
            long slowStartNanos, AtomicLong position) {
        super(backends, clock, random, slowStartNanos);
        this.position = requireNonNull(position, "position");
        this.schedule = schedule(this.backends);
    }

    /** The shared rotation position, to hand to the next snapshot's balancer. */
    AtomicLong position() {
        return position;
    }

    @Override
    public Backend pick(Admission admission, List<Backend> excluded, long nowNanos) {
        int period = schedule.length;
        if (period == 0) {
            return null;
        }
        int slot = (int) Math.floorMod(position.getAndIncrement(), (long) period);
        int probes = Math.min(period, PROBES);
        for (int k = 0; k < probes; k++) {
            int s = slot + k;
            Backend b = backends[schedule[s >= period ? s - period : s]];
            if (admission.admits(b, excluded, nowNanos) && passesSlowStart(b, nowNanos)) {
                return b;
            }
        }
        return firstAdmitted(admission, excluded, schedule[slot], nowNanos);
    }

    /** One period of nginx's smooth weighted round-robin over the backends' weights. */
    static int[] schedule(Backend[] backends) {
        int n = backends.length;
        long[] weights = new long[n];
        for (int i = 0; i < n; i++) {
            weights[i] = backends[i].weight();
        }
        long period = reduce(weights);
        if (period > MAX_PERIOD) {
            for (int i = 0; i < n; i++) {
                weights[i] = Math.max(1, weights[i] * MAX_PERIOD / period);
            }
            period = reduce(weights);
        }
        int[] schedule = new int[(int) period];
        long[] current = new long[n];
        for (int step = 0; step < schedule.length; step++) {
            int best = 0;
            for (int i = 0; i < n; i++) {
                current[i] += weights[i];
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= period;
            schedule[step] = best;
        }
        return schedule;
    }

    /** Divides the weights by their gcd in place and returns their sum. */
    private static long reduce(long[] weights) {
        long gcd = 0;
        for (long w : weights) {
            gcd = gcd(gcd, w);
        }
        long sum = 0;
        for (int i = 0; i < weights.length; i++) {
            weights[i] /= gcd;
            sum += weights[i];
        }
        return sum;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
