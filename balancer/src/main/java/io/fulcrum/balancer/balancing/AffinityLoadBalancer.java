package io.fulcrum.balancer.balancing;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A pool's policy with session affinity in front: a request whose cookie names a backend that can
 * take it (routable, not held down, below max-in-flight, not tried already by this request) goes
 * there; a request with a hash key goes where the ring sends it under the load bound
 * ({@link HashRing}); anything else, and anything affinity cannot place, goes to the pool's policy
 * (region-aware, with its spill-over and panic mode). Thread-safe; selection allocates nothing.
 */
final class AffinityLoadBalancer implements LoadBalancer {
    private final LoadBalancer policy;
    private final Affinity affinity;
    private final NanoClock clock;

    AffinityLoadBalancer(LoadBalancer policy, Affinity affinity, NanoClock clock) {
        this.policy = requireNonNull(policy, "policy");
        this.affinity = requireNonNull(affinity, "affinity");
        this.clock = requireNonNull(clock, "clock");
    }

    @Override
    public Backend select(RequestInfo request, DecisionTrace trace) {
        Backend b = affine(request);
        if (b == null) {
            return policy.select(request, trace);
        }
        if (trace != null) {
            trace.request(request, request.clientRegion());
            trace.chose(b, DecisionTrace.Pass.AFFINITY);
        }
        return b;
    }

    private Backend affine(RequestInfo request) {
        String cookie = request.affinityCookie();
        HashRing ring = affinity.ring();
        if (cookie == null && (ring == null || !request.hasAffinityKey())) {
            return null;
        }
        long now = clock.nanoTime();
        List<Backend> excluded = request.excluded();
        if (cookie != null) {
            Backend pinned = affinity.pinned(cookie);
            return pinned != null && Admission.CAPACITY_AVOIDING.admits(pinned, excluded, now) ? pinned : null;
        }
        return ring.pick(request.affinityKey(), Admission.CAPACITY_AVOIDING, excluded, now);
    }

    @Override
    public Affinity affinity() {
        return affinity;
    }

    /** The policy behind the affinity, for carrying its state over a swap. */
    LoadBalancer policy() {
        return policy;
    }

    @Override
    public RoutingCounters counters() {
        return policy.counters();
    }

    @Override
    public long panicSelections() {
        return policy.panicSelections();
    }
}
