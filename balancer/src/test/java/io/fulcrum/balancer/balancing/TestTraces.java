package io.fulcrum.balancer.balancing;

import io.fulcrum.balancer.config.RoutingConfig.Policy;
import java.util.List;
import java.util.SplittableRandom;

/** Decision traces made by a real selection, for the tests of the access log and the meters. */
public final class TestTraces {
    private TestTraces() {
    }

    /**
     * A retry of a client of us-east (its region by default) that avoided us-1, the backend it
     * tried first, and got us-2: {@code region=us-east(default) pass=local to=us-east backend=us-2 avoided=1}.
     */
    public static DecisionTrace retryThatAvoidedOne() {
        FakeClock clock = new FakeClock();
        Backend us1 = RoutingFixtures.backend("us-1", "us-east", 1, 10, clock);
        Backend us2 = RoutingFixtures.backend("us-2", "us-east", 1, 10, clock);
        LoadBalancer lb = LoadBalancerFactory.create("us-east",
                RoutingFixtures.routing(Policy.LEAST_BUSY, 0.8, List.of(), RoutingFixtures.NO_SLOW_START),
                List.of(us1, us2), null, clock, new SplittableRandom(3));
        DecisionTrace trace = DecisionTrace.compactTrace();
        lb.select(new RequestInfo(null, List.of(us1)), trace);
        return trace;
    }
}
