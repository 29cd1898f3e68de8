package io.fulcrum.balancer.routing;

import io.fulcrum.balancer.config.RoutingConfig;
import java.util.List;

/** Builds the {@link LoadBalancer} for a snapshot. */
public final class LoadBalancerFactory {
    private LoadBalancerFactory() {
    }

    /**
     * @param previous the load balancer of the snapshot being replaced, or {@code null}; lets
     *     stateful policies (round-robin position) carry over
     */
    public static LoadBalancer create(String localRegion, RoutingConfig routing, List<Backend> backends,
            LoadBalancer previous) {
        return new RoundRobinLoadBalancer(backends);
    }
}
