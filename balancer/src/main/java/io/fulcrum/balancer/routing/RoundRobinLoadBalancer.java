package io.fulcrum.balancer.routing;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Plain rotation over the routable backends below their max-in-flight. */
final class RoundRobinLoadBalancer implements LoadBalancer {
    private final Backend[] backends;
    private final AtomicInteger next = new AtomicInteger();

    RoundRobinLoadBalancer(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
    }

    @Override
    public Backend select(RequestInfo request) {
        int n = backends.length;
        int start = next.getAndIncrement();
        Backend fallback = null;
        for (int i = 0; i < n; i++) {
            Backend b = backends[Math.floorMod(start + i, n)];
            if (b.state().routable() && b.state().inFlight() < b.maxInFlight()) {
                if (!request.excluded().contains(b)) {
                    return b;
                }
                if (fallback == null) {
                    fallback = b;
                }
            }
        }
        return fallback;
    }
}
