package io.fulcrum.balancer.balancing;

import java.util.List;

/**
 * One immutable view of the backend pool and the load balancer built for it. Swapped atomically
 * by {@link BackendRegistry}; the request path reads it without locks.
 *
 * @param generation increases with every swap
 * @param backends every configured backend, in config order
 * @param loadBalancer the selector for this snapshot
 */
public record BackendSnapshot(long generation, List<Backend> backends, LoadBalancer loadBalancer) {
    public BackendSnapshot {
        backends = List.copyOf(backends);
    }

    /** The backend with this id, or {@code null}. */
    public Backend byId(String id) {
        for (Backend b : backends) {
            if (b.id().equals(id)) {
                return b;
            }
        }
        return null;
    }
}
