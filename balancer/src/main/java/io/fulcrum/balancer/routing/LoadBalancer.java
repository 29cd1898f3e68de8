package io.fulcrum.balancer.routing;

/**
 * Chooses a backend for one request. Built for one snapshot; must be thread-safe, do no I/O and
 * not allocate on the selection path.
 */
public interface LoadBalancer {
    /**
     * Returns the backend to use, or {@code null} when no candidate can take the request (none
     * routable, or all at max-in-flight). The caller still has to {@link Backend#tryAcquire()}.
     */
    Backend select(RequestInfo request);
}
