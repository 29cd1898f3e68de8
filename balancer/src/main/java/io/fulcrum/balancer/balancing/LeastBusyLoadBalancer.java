package io.fulcrum.balancer.balancing;

import io.fulcrum.balancer.config.LeastBusyConfig;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The default policy: the candidate with the lowest {@link LeastBusyCost cost}.
 *
 * <ul>
 *   <li><b>Small pools</b> (at most {@code least-busy.exact-max} candidates, 16 by default) are
 *       scanned whole: the exact least-cost choice, equal costs broken at random, latencies within
 *       {@value LeastBusyCost#EQUAL_LATENCY} times the lowest counting as equal. A scan of a few
 *       backends costs tens of nanoseconds, and on equal backends the exact choice keeps queues
 *       shorter than two random choices do (join-the-shortest-queue against power of two).</li>
 *   <li><b>Larger pools</b> compare {@code least-busy.choices} candidates drawn at random (power
 *       of k choices, Mitzenmacher): nearly as good, O(k), and event loops choosing at once do not
 *       all herd onto the one cheapest backend.</li>
 *   <li><b>Warming backends</b> (inside their slow-start window) compete by their cost, in which
 *       the warm-up factor stands for their speed, while they hold requests. An idle one is not
 *       compared by cost: it and the cheapest other candidate are drawn in proportion to their
 *       {@link LeastBusyCost#capacity capacity}, so at low load a backend at a fifth of its
 *       warm-up still gets about one request in six against an equal idle peer and warms up,
 *       instead of losing every comparison to a warm peer answering one request at a time.</li>
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
        double pool = -1;
        LeastBusyCost.Stalls stalls = LeastBusyCost.Stalls.of(backends, nowNanos);
        double floor = cost.latencyFloor(backends, nowNanos, stalls);
        for (Backend b : backends) {
            if (!admission.admits(b, excluded, nowNanos)) {
                continue;
            }
            if (cost.warming(b, nowNanos)) {
                if (b.state().inFlight() == 0) {
                    // One idle warming candidate, uniformly at random (reservoir sampling).
                    if (random.nextInt(++warmingSeen) == 0) {
                        warming = b;
                    }
                    continue;
                }
                pool = pool < 0 ? cost.poolLatency(backends, nowNanos) : pool;
            }
            double c = cost.cost(b, nowNanos, pool, floor, stalls.shared(b));
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
        double pool = -1;
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
                if (b.state().inFlight() == 0) {
                    warming = warming == null ? b : warming;
                    continue;
                }
                pool = pool < 0 ? cost.poolLatency(backends, nowNanos) : pool;
            }
            double c = cost.cost(b, nowNanos, pool, 0, 0);
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

    /** The cost as a selection among all the candidates sees it now; see {@link LeastBusyCost}. */
    double cost(Backend backend, long nowNanos) {
        if (backends.length > exactMax) {
            return cost.cost(backend, nowNanos, warmingPoolLatency(backend, nowNanos), 0, 0);
        }
        LeastBusyCost.Stalls stalls = LeastBusyCost.Stalls.of(backends, nowNanos, new LeastBusyCost.Stalls());
        return cost.cost(backend, nowNanos, warmingPoolLatency(backend, nowNanos),
                cost.latencyFloor(backends, nowNanos, stalls), stalls.shared(backend));
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
