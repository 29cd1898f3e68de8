package io.fulcrum.balancer.balancing;

/**
 * The least-busy cost of a backend and its terms, lower is better:
 * <pre>
 *   latency × (in-flight + 1) × (1 + error-weight × error-rate) / (1 − 0.9 × reported-load)
 *       / (weight × warm-up)
 * </pre>
 * <ul>
 *   <li><b>Latency × (in-flight + 1)</b> estimates how long a new request would wait (Finagle's and
 *       Linkerd's EWMA cost). In a scan of the whole pool, latencies within
 *       {@value #EQUAL_LATENCY} times the lowest count as that (the pool's backends are then ranked
 *       by requests in flight, the exact least-connections choice), and a slower one weighs as the
 *       square of its ratio to that band ({@link #banded}): slow answers are also the pool's tail. The latency is the larger of a plain average over about the last
 *       second ({@link BackendState#latencyMeanNanos}) and how long the backend has been busy
 *       without finishing anything ({@link #latency(BackendState, long, double) its stall}) beyond
 *       what is ordinary, so a backend that stops answering becomes costly within milliseconds,
 *       while equal backends are not ranked by the noise of single slow answers (a peak average
 *       would hold each one for seconds). A failed answer never lowers the latency
 *       estimate: a backend that fails fast does not look fast.</li>
 *   <li><b>The error term</b> weighs the backend's recent share of failures (5xx, resets, connect
 *       failures, timeouts; a decayed average over about 10 s): at a 30 % failure rate and the
 *       default weight 4 the cost is 2.2 times as high, so the backend's share falls with its error
 *       rate instead of all or nothing. Ejection remains for backends failing nearly everything.</li>
 *   <li><b>Reported load</b> makes a backend that says it is fully loaded ten times as costly.</li>
 *   <li><b>Weight × warm-up</b>: in-flight requests settle in proportion to weight. After a backend
 *       comes back ({@link BackendState#markRecovered}) its warm-up factor is the larger of the
 *       slow-start time ramp and the ratio of the pool's latency to the latency it has shown since;
 *       a backend that answers as fast as its peers is at full share at once, a cold one grows as
 *       it gets faster and reaches full share at the latest when the window ends. While warming,
 *       the pool's latency stands in for its own in the latency term: its own is weighed through
 *       the warm-up factor, not twice.</li>
 * </ul>
 * A backend that has never answered (since it came back) is free while idle, so it gets tried, and
 * very expensive once it holds a request, so it is not flooded before its first answer (Finagle's
 * penalty rule).
 *
 * <p>Immutable and thread-safe; allocation-free.
 */
final class LeastBusyCost {
    /**
     * Latencies within this factor of the lowest among the candidates count as equal in a scan:
     * their averages differ by the noise of a second's answers and the queues behind them, and
     * ranking equal backends by that noise instead of by requests in flight makes the queues longer
     * than the exact least-in-flight choice does. A backend slower than that is weighed by its own
     * latency.
     */
    static final double EQUAL_LATENCY = 1.5;
    /**
     * In a scan, a latency above the equal band weighs as its ratio to the band raised to this
     * power: a backend three times as slow as its peers costs about four times as much per request
     * in flight, not three. Its answers are slower on average and in their tail, and a request
     * sent there is a request in the pool's p99.9; so the slower backend takes requests only once
     * the fast ones have somewhat longer queues, and still its share of the load when they are busy.
     */
    static final double SLOW_LATENCY_EXPONENT = 2;
    /**
     * A stall up to this many times the backend's average latency is ordinary and does not count:
     * a backend holding one request with exponential service times goes without an answer for
     * longer than its average more than a third of the time, one holding several far less often,
     * and counting that would rank backends by how few requests they hold.
     */
    static final double STALL_GRACE = 2;
    /** The cost of an unanswered backend holding requests; dwarfs any real latency product. */
    static final double UNKNOWN_LATENCY_PENALTY = 1e15;
    /** At reported load 1 the cost is multiplied by 1 / (1 − 0.9) = 10. */
    static final double LOAD_SENSITIVITY = 0.9;

    private final long slowStartNanos;
    private final double errorWeight;

    LeastBusyCost(long slowStartNanos, double errorWeight) {
        this.slowStartNanos = slowStartNanos;
        this.errorWeight = errorWeight;
    }

    /** Whether {@code b} is inside its slow-start window. */
    boolean warming(Backend b, long nowNanos) {
        return b.state().slowStartFactor(nowNanos, slowStartNanos) < 1;
    }

    /**
     * The cost at {@code nowNanos}; {@code poolLatency} is {@link #poolLatency} (only read for a
     * backend that is warming; 0 when unknown), {@code latencyFloor} the {@link #EQUAL_LATENCY band}
     * × the lowest latency among the candidates compared (0 for none), {@code sharedStall} what
     * {@link Stalls#shared} gives for {@code b} (0 outside a scan).
     */
    double cost(Backend b, long nowNanos, double poolLatency, double latencyFloor, double sharedStall) {
        BackendState s = b.state();
        int inFlight = s.inFlight();
        double latency = latency(s, nowNanos, sharedStall);
        double warm = warmUp(b, nowNanos, poolLatency, latency);
        double base;
        if (latency > 0) {
            base = (warm < 1 && poolLatency > 0 ? poolLatency : banded(latency, latencyFloor)) * (inFlight + 1);
        } else {
            base = inFlight == 0 ? 1 : UNKNOWN_LATENCY_PENALTY + inFlight;
        }
        return base * errorFactor(b, nowNanos) / (1 - LOAD_SENSITIVITY * s.reportedLoad(nowNanos))
                / (b.weight() * warm);
    }

    /** The multiplier of the error term: 1 + error-weight × recent error rate. */
    double errorFactor(Backend b, long nowNanos) {
        return 1 + errorWeight * b.state().recentErrorRate(nowNanos);
    }

    /**
     * The warm-up factor in [{@link BackendState#MIN_SLOW_START_FACTOR}, 1]: 1 outside the slow-start
     * window; inside it the larger of the time ramp and pool latency / own latency (when both are
     * known).
     */
    double warmUp(Backend b, long nowNanos, double poolLatency) {
        return warmUp(b, nowNanos, poolLatency, latency(b.state(), nowNanos, 0));
    }

    /** {@link #warmUp(Backend, long, double)} with the backend's latency {@code own} already read. */
    private double warmUp(Backend b, long nowNanos, double poolLatency, double own) {
        double ramp = b.state().slowStartFactor(nowNanos, slowStartNanos);
        if (ramp >= 1) {
            return 1;
        }
        if (own > 0 && poolLatency > 0) {
            ramp = Math.max(ramp, Math.min(1, poolLatency / own));
        }
        return ramp;
    }

    /**
     * What a warming backend can take now, per request it holds, its latency left out (it is in
     * the warm-up factor): weight × warm-up × (1 − 0.9 × reported-load) / (in-flight + 1) / error
     * factor. Two backends are drawn in proportion to it when one of them is warming (Envoy's
     * least-request weighting), so a cold backend is neither flooded nor starved.
     */
    double capacity(Backend b, long nowNanos, double poolLatency) {
        BackendState s = b.state();
        return b.weight() * warmUp(b, nowNanos, poolLatency)
                * (1 - LOAD_SENSITIVITY * s.reportedLoad(nowNanos)) / (s.inFlight() + 1) / errorFactor(b, nowNanos);
    }

    /**
     * The mean latency of the backends that are not warming and have answered, the yardstick of
     * warm-up; 0 when none has. O(n): called only when a warming backend is in play.
     */
    double poolLatency(Backend[] backends, long nowNanos) {
        double sum = 0;
        int n = 0;
        for (Backend b : backends) {
            if (!warming(b, nowNanos)) {
                double l = latency(b.state(), nowNanos, 0);
                if (l > 0) {
                    sum += l;
                    n++;
                }
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    /**
     * {@link #EQUAL_LATENCY} × the lowest latency of the settled candidates that have answered, or
     * 0 when none has; {@code stalls} as the candidates' {@link Stalls#of}. O(n).
     */
    double latencyFloor(Backend[] candidates, long nowNanos, Stalls stalls) {
        double min = Double.POSITIVE_INFINITY;
        for (Backend b : candidates) {
            double l = warming(b, nowNanos) ? 0 : latency(b.state(), nowNanos, stalls.shared(b));
            if (l > 0 && l < min) {
                min = l;
            }
        }
        return min == Double.POSITIVE_INFINITY ? 0 : EQUAL_LATENCY * min;
    }

    /**
     * The latency term of a scan: the floor for a latency inside the equal band, the floor ×
     * (latency / floor)^{@value #SLOW_LATENCY_EXPONENT} above it; the latency itself without a floor.
     */
    static double banded(double latency, double floor) {
        if (floor <= 0) {
            return latency;
        }
        return latency <= floor ? floor : floor * Math.pow(latency / floor, SLOW_LATENCY_EXPONENT);
    }

    /**
     * The latency least-busy weighs: the plain average, or the backend's stall beyond what is
     * ordinary when that is longer; 0 before any answer. Its stall is the time it has been busy
     * without answering anything ({@link BackendState#stalledNanos}); ordinary is
     * {@value #STALL_GRACE} times its average, or {@code sharedStall} when longer: how long the
     * other busy candidates have gone without an answer too. A pause every backend shares (the
     * balancer's own, or the machine's) is nobody's fault, and counting it would send the next
     * requests to whichever backend happened to hold none.
     */
    static double latency(BackendState s, long nowNanos, double sharedStall) {
        double mean = s.latencyMeanNanos(nowNanos);
        if (mean <= 0) {
            return 0;
        }
        long stalled = s.stalledNanos(nowNanos);
        return stalled == 0 ? mean : Math.max(mean, stalled - Math.max(sharedStall, STALL_GRACE * mean));
    }

    /**
     * The shortest stalls among the candidates that hold requests, read once per scan, so that each
     * candidate's stall is judged against the others'. Allocation-free: a scan keeps one per event
     * loop thread and fills it again.
     */
    static final class Stalls {
        private static final ThreadLocal<Stalls> PER_THREAD = ThreadLocal.withInitial(Stalls::new);

        private double shortest;
        private double second;
        private Backend shortestOf;

        /** The stalls of {@code candidates} at {@code nowNanos}, in this thread's instance. */
        static Stalls of(Backend[] candidates, long nowNanos) {
            return of(candidates, nowNanos, PER_THREAD.get());
        }

        /** Reads the stalls of {@code candidates} at {@code nowNanos} into {@code into}; returns it. */
        static Stalls of(Backend[] candidates, long nowNanos, Stalls into) {
            double shortest = Double.POSITIVE_INFINITY;
            double second = Double.POSITIVE_INFINITY;
            Backend shortestOf = null;
            for (Backend b : candidates) {
                BackendState s = b.state();
                if (s.inFlight() == 0) {
                    continue;
                }
                double stalled = s.stalledNanos(nowNanos);
                if (stalled < shortest) {
                    second = shortest;
                    shortest = stalled;
                    shortestOf = b;
                } else if (stalled < second) {
                    second = stalled;
                }
            }
            into.shortest = shortest;
            into.second = second;
            into.shortestOf = shortestOf;
            return into;
        }

        /**
         * The shortest stall among the busy candidates other than {@code b}: what every other
         * backend shares with it; 0 when no other candidate holds a request.
         */
        double shared(Backend b) {
            double other = b == shortestOf ? second : shortest;
            return other == Double.POSITIVE_INFINITY ? 0 : other;
        }
    }
}
