package io.fulcrum.balancer.balancing;

import io.fulcrum.balancer.config.LeastBusyConfig;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The default policy: the candidate with the lowest {@link LeastBusyCost cost}.
 *
 * <ul>
 *   <li><b>Small pools</b> (at most {@code least-busy.exact-max} candidates, 16 by default) are
 *       scanned whole: the exact least-cost choice, equal costs broken at random. A scan of a few
 *       backends costs tens of nanoseconds, and on equal backends the exact choice keeps queues
 *       shorter than two random choices do (join-the-shortest-queue against power of two).</li>
 *   <li><b>Larger pools</b> compare {@code least-busy.choices} candidates drawn at random (power
 *       of k choices, Mitzenmacher): nearly as good, O(k), and event loops choosing at once do not
 *       all herd onto the one cheapest backend.</li>
 *   <li><b>Warming backends</b> (inside their slow-start window) are not compared by cost: one of
 *       them, drawn at random, and the cheapest other candidate are drawn in proportion to their
 *       {@link LeastBusyCost#capacity capacity}, so a backend at a fifth of its warm-up gets about
 *       one request in six against an equal idle peer, and its share grows with its latency
 *       against the pool's and with time.</li>
 * </ul>
 *
 * <p>Thread-safe and allocation-free; the random source must be thread-safe (production uses the
 * thread-local one). Randomness is drawn only to break ties, to draw in a large pool and for
 * warming backends.
 */
final class LeastBusyLoadBalancer extends PolicyLoadBalancer {
    private final LeastBusyCost cost;
    private final int exactMax;
    private final int choices;

    LeastBusyLoadBalancer(List<Backend> backends, NanoClock clock, RandomGenerator random, long slowStartNanos) {
        this(backends, clock, random, slowStartNanos, LeastBusyConfig.DEFAULT);
    }

    LeastBusyLoadBalancer(List<Backend> backends, NanoClock clock, RandomGenerator random, long slowStartNanos,
            LeastBusyConfig config) {
        super(backends, clock, random, slowStartNanos);
        this.cost = new LeastBusyCost(slowStartNanos, config.errorWeight());
        this.exactMax = config.exactMax();
        this.choices = config.choices();
    }

    @Override
    public Backend pick(Admission admission, List<Backend> excluded, long nowNanos) {
        int n = backends.length;
        if (n == 0) {
            return null;
        }
        if (n == 1) {
            return admission.admits(backends[0], excluded, nowNanos) ? backends[0] : null;
        }
        if (n > exactMax) {
            Backend b = drawn(admission, excluded, nowNanos);
            if (b != null) {
                return b;
            }
            // Rare: every draw was full, down or excluded. Look at all of them.
        }
        return scanned(admission, excluded, nowNanos);
    }

    /** The exact choice: every candidate looked at. */
    private Backend scanned(Admission admission, List<Backend> excluded, long nowNanos) {
        Backend best = null;
        double bestCost = Double.POSITIVE_INFINITY;
        int ties = 0;
        Backend warming = null;
        int warmingSeen = 0;
        for (Backend b : backends) {
            if (!admission.admits(b, excluded, nowNanos)) {
                continue;
            }
            if (cost.warming(b, nowNanos)) {
                // One warming candidate, uniformly at random (reservoir sampling).
                if (random.nextInt(++warmingSeen) == 0) {
                    warming = b;
                }
                continue;
            }
            double c = cost.cost(b, nowNanos, 0);
            if (c < bestCost) {
                best = b;
                bestCost = c;
                ties = 1;
            } else if (c == bestCost && random.nextInt(++ties) == 0) {
                best = b;
            }
        }
        return withWarming(best, warming, nowNanos);
    }

    /** The cheapest of {@code choices} drawn candidates, or {@code null} when no draw is admitted. */
    private Backend drawn(Admission admission, List<Backend> excluded, long nowNanos) {
        int n = backends.length;
        Backend best = null;
        double bestCost = Double.POSITIVE_INFINITY;
        Backend warming = null;
        int first = random.nextInt(n);
        for (int k = 0; k < choices; k++) {
            int i;
            if (k == 0) {
                i = first;
            } else if (k == 1) {
                // The second draw is never the first; further ones are independent.
                i = random.nextInt(n - 1);
                i = i >= first ? i + 1 : i;
            } else {
                i = random.nextInt(n);
            }
            Backend b = backends[i];
            if (!admission.admits(b, excluded, nowNanos)) {
                continue;
            }
            if (cost.warming(b, nowNanos)) {
                warming = warming == null ? b : warming;
                continue;
            }
            double c = cost.cost(b, nowNanos, 0);
            if (c < bestCost) {
                best = b;
                bestCost = c;
            }
        }
        return withWarming(best, warming, nowNanos);
    }

    /** The best settled candidate against a warming one, drawn in proportion to capacity. */
    private Backend withWarming(Backend best, Backend warming, long nowNanos) {
        if (warming == null) {
            return best;
        }
        if (best == null) {
            return warming;
        }
        double pool = cost.poolLatency(backends, nowNanos);
        double capacityBest = cost.capacity(best, nowNanos, pool);
        double capacityWarming = cost.capacity(warming, nowNanos, pool);
        return random.nextDouble() * (capacityBest + capacityWarming) < capacityWarming ? warming : best;
    }

    /** The cost as selection sees it now; see {@link LeastBusyCost}. */
    double cost(Backend backend, long nowNanos) {
        return cost.cost(backend, nowNanos, warmingPoolLatency(backend, nowNanos));
    }

    /** The warm-up factor as selection sees it now. */
    double warmUp(Backend backend, long nowNanos) {
        return cost.warmUp(backend, nowNanos, warmingPoolLatency(backend, nowNanos));
    }

    /** The multiplier of the error term now. */
    double errorFactor(Backend backend, long nowNanos) {
        return cost.errorFactor(backend, nowNanos);
    }

    private double warmingPoolLatency(Backend backend, long nowNanos) {
        return cost.warming(backend, nowNanos) ? cost.poolLatency(backends, nowNanos) : 0;
    }
}
