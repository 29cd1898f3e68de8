package io.fulcrum.balancer.balancing;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * What the three policies share: a fixed candidate array, the clock, the random source and the
 * slow-start window, plus {@link #select} as a stand-alone {@link LoadBalancer} (no regions: any
 * routable backend below max-in-flight, avoiding excluded ones when another exists).
 * Thread-safe when the random source is; the candidates are never modified.
 */
abstract class PolicyLoadBalancer implements LoadBalancer, CandidatePicker {
    final Backend[] backends;
    final NanoClock clock;
    final RandomGenerator random;
    final long slowStartNanos;
    private final List<Backend> candidates;

    PolicyLoadBalancer(List<Backend> backends, NanoClock clock, RandomGenerator random, long slowStartNanos) {
        this.candidates = List.copyOf(backends);
        this.backends = candidates.toArray(new Backend[0]);
        this.clock = requireNonNull(clock, "clock");
        this.random = requireNonNull(random, "random");
        this.slowStartNanos = slowStartNanos;
    }

    @Override
    public final Backend select(RequestInfo request) {
        long now = clock.nanoTime();
        List<Backend> excluded = request.excluded();
        if (!excluded.isEmpty()) {
            Backend b = pick(Admission.CAPACITY_AVOIDING, excluded, now);
            if (b != null) {
                return b;
            }
        }
        return pick(Admission.CAPACITY, excluded, now);
    }

    /** Records only the choice: a policy on its own knows no regions. */
    @Override
    public final Backend select(RequestInfo request, DecisionTrace trace) {
        Backend b = select(request);
        if (trace != null) {
            trace.request(request, request.clientRegion());
            trace.chose(b, DecisionTrace.Pass.LOCAL);
        }
        return b;
    }

    @Override
    public final List<Backend> candidates() {
        return candidates;
    }

    /** The first admitted candidate at or after {@code start}, wrapping around; {@code null} if none. */
    final Backend firstAdmitted(Admission admission, List<Backend> excluded, int start, long nowNanos) {
        int n = backends.length;
        for (int k = 0; k < n; k++) {
            int i = start + k;
            Backend b = backends[i >= n ? i - n : i];
            if (admission.admits(b, excluded, nowNanos)) {
                return b;
            }
        }
        return null;
    }

    /**
     * Whether a backend in slow start takes this turn: true with probability equal to its slow-start
     * factor, so over many turns its share is scaled by the ramp. Draws randomness only during a ramp.
     */
    final boolean passesSlowStart(Backend b, long now) {
        double factor = b.state().slowStartFactor(now, slowStartNanos);
        return factor >= 1 || random.nextDouble() < factor;
    }
}
