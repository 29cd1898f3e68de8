package io.fulcrum.balancer.balancing;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Weighted random: each backend is drawn with probability proportional to its weight, by binary
 * search over the cumulative weights. A draw that is full, down, excluded or loses its slow-start
 * lottery is redrawn a few times, then the first admitted backend after it is taken. Kept for
 * comparison and for operators who want no state at all. Thread-safe and allocation-free.
 */
final class RandomLoadBalancer extends PolicyLoadBalancer {
    private static final int DRAWS = 4;

    /** cumulative[i] = weight of backends 0..i. */
    private final long[] cumulative;

    RandomLoadBalancer(List<Backend> backends, NanoClock clock, RandomGenerator random, long slowStartNanos) {
        super(backends, clock, random, slowStartNanos);
        cumulative = new long[this.backends.length];
        long sum = 0;
        for (int i = 0; i < this.backends.length; i++) {
            sum += this.backends[i].weight();
            cumulative[i] = sum;
        }
    }

    @Override
    public Backend pick(Admission admission, List<Backend> excluded, long nowNanos) {
        int n = backends.length;
        if (n == 0) {
            return null;
        }
        long total = cumulative[n - 1];
        int index = 0;
        for (int d = 0; d < DRAWS; d++) {
            index = indexOf(random.nextLong(total));
            Backend b = backends[index];
            if (admission.admits(b, excluded, nowNanos) && passesSlowStart(b, nowNanos)) {
                return b;
            }
        }
        return firstAdmitted(admission, excluded, index, nowNanos);
    }

    /** The first index whose cumulative weight exceeds {@code ticket}. */
    private int indexOf(long ticket) {
        int lo = 0;
        int hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] > ticket) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
