package io.fulcrum.balancer.balancing;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The default policy: power of two choices (Mitzenmacher) over a load cost. Two distinct candidates
 * are drawn at random and the cheaper one wins, which avoids both the herding of a global "least
 * loaded" pick across event loops and the O(n) scan.
 *
 * <p>The cost of a backend, lower is better:
 * <pre>
 *   latency-EWMA × (in-flight + 1) × 1 / (1 − 0.9 × reported-load) / (weight × slow-start-factor)
 * </pre>
 * Latency times queue length estimates how long a new request would wait (Finagle's and Linkerd's
 * peak-EWMA cost). The latency used is the larger of the average and the time the backend has been
 * busy without finishing anything: a backend that stops answering becomes costly within
 * milliseconds instead of collecting requests until the first of them times out; the reported-load term makes a backend that says it is fully loaded ten times as
 * costly; dividing by the effective weight makes in-flight requests settle in proportion to weight.
 * A backend that has never answered is free while idle, so it gets tried, and very expensive once it
 * holds a request, so it is not flooded before its first answer (Finagle's penalty rule).
 *
 * <p>Slow start: when either of the two drawn is ramping up after coming back, the latency is left
 * out. A restarted process answers its first requests slowly (a cold JVM), and a peak EWMA of those
 * answers would keep it from traffic long after the ramp ended, so it would never warm up; the ramp
 * is what limits its share then. The two are weighed by capacity per request in flight, (weight ×
 * slow-start-factor × (1 − 0.9 × reported-load)) / (in-flight + 1), and one is drawn in proportion
 * (Envoy's least-request weighting), so a backend at a tenth of its ramp gets about one request in
 * eleven against an equal idle peer, and half at the end of the ramp.
 *
 * <p>Thread-safe and allocation-free; the random source must be thread-safe (production uses the
 * thread-local one).
 */
final class LeastBusyLoadBalancer extends PolicyLoadBalancer {
    /** The cost of an unanswered backend holding requests; dwarfs any real latency product. */
    static final double UNKNOWN_LATENCY_PENALTY = 1e15;
    /** At reported load 1 the cost is multiplied by 1 / (1 − 0.9) = 10. */
    static final double LOAD_SENSITIVITY = 0.9;

    LeastBusyLoadBalancer(List<Backend> backends, NanoClock clock, RandomGenerator random, long slowStartNanos) {
        super(backends, clock, random, slowStartNanos);
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
        int i = random.nextInt(n);
        int j = random.nextInt(n - 1);
        if (j >= i) {
            j++;
        }
        Backend a = backends[i];
        Backend b = backends[j];
        boolean okA = admission.admits(a, excluded, nowNanos);
        boolean okB = admission.admits(b, excluded, nowNanos);
        if (!okA && !okB) {
            // Rare: both draws full or down. Fall back to the first two admitted ones from a's slot.
            a = firstAdmitted(admission, excluded, i, nowNanos);
            if (a == null) {
                return null;
            }
            b = secondAdmitted(admission, excluded, a, i, nowNanos);
            okA = true;
            okB = b != null;
        }
        if (okA && okB) {
            return better(a, b, nowNanos);
        }
        return okA ? a : b;
    }

    /** The cheaper of two admitted backends, or, when one is in slow start, one drawn by capacity. */
    private Backend better(Backend a, Backend b, long nowNanos) {
        double rampA = a.state().slowStartFactor(nowNanos, slowStartNanos);
        double rampB = b.state().slowStartFactor(nowNanos, slowStartNanos);
        if (rampA < 1 || rampB < 1) {
            double capacityA = capacity(a, rampA, nowNanos);
            double capacityB = capacity(b, rampB, nowNanos);
            return random.nextDouble() * (capacityA + capacityB) < capacityA ? a : b;
        }
        return cost(a, nowNanos) <= cost(b, nowNanos) ? a : b;
    }

    /** What a backend can take now, per request it holds, its latency left out; see the class comment. */
    private static double capacity(Backend backend, double ramp, long nowNanos) {
        BackendState s = backend.state();
        return backend.weight() * ramp * (1 - LOAD_SENSITIVITY * s.reportedLoad(nowNanos)) / (s.inFlight() + 1);
    }

    /** The lower, the better. See the class comment. */
    double cost(Backend backend, long nowNanos) {
        BackendState s = backend.state();
        int inFlight = s.inFlight();
        double latency = s.latencyEwmaNanos(nowNanos);
        double base;
        if (latency > 0) {
            latency = Math.max(latency, s.stalledNanos(nowNanos));
            base = latency * (inFlight + 1);
        } else {
            base = inFlight == 0 ? 1 : UNKNOWN_LATENCY_PENALTY + inFlight;
        }
        double load = 1 / (1 - LOAD_SENSITIVITY * s.reportedLoad(nowNanos));
        double weight = backend.weight() * s.slowStartFactor(nowNanos, slowStartNanos);
        return base * load / weight;
    }

    private Backend secondAdmitted(Admission admission, List<Backend> excluded, Backend first, int start,
            long nowNanos) {
        int n = backends.length;
        boolean seenFirst = false;
        for (int k = 0; k < n; k++) {
            int idx = start + k;
            Backend b = backends[idx >= n ? idx - n : idx];
            if (b == first) {
                seenFirst = true;
            } else if (seenFirst && admission.admits(b, excluded, nowNanos)) {
                return b;
            }
        }
        return null;
    }
}
