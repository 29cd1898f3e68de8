package io.fulcrum.balancer.health;

import io.fulcrum.balancer.balancing.Backend;
import java.util.concurrent.CompletableFuture;

/**
 * Probes one backend once. Implementations do their I/O off the request path (their own event
 * loop) and complete the future from there; they never complete it exceptionally for a failed
 * probe but with an unhealthy {@link HealthCheckResult}. Thread-safe.
 */
@FunctionalInterface
public interface HealthChecker {
    CompletableFuture<HealthCheckResult> check(Backend backend);
}
