package io.fulcrum.balancer.balancing;

/**
 * Chooses a backend for one request. Built for one snapshot by {@link LoadBalancerFactory}; must be
 * thread-safe, do no I/O and not allocate on the selection path.
 */
public interface LoadBalancer {
    /**
     * Returns the backend to use, or {@code null} when no candidate can take the request (none
     * routable, or all at max-in-flight). The caller still has to {@link Backend#tryAcquire()}:
     * another event loop may take the last slot between the two calls.
     */
    default Backend select(RequestInfo request) {
        return select(request, null);
    }

    /**
     * As {@link #select(RequestInfo)}, recording why in {@code trace} when it is not {@code null}.
     * Policies without regions record only the choice.
     */
    Backend select(RequestInfo request, DecisionTrace trace);

    /**
     * The pool's session affinity for this snapshot, or {@code null} when it has none; tells the
     * proxy what to read from a request and what cookie to set.
     */
    default Affinity affinity() {
        return null;
    }

    /** The spill-over and panic counters, or {@code null} for a policy without regions. */
    default RoutingCounters counters() {
        return null;
    }

    /**
     * Selections made in panic mode (no routable backend in reach, so any non-draining one was
     * used), since the registry was created; the count carries over snapshot swaps. For metrics.
     */
    default long panicSelections() {
        return 0;
    }
}
