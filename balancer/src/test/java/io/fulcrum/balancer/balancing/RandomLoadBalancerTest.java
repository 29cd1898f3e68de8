package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.assertOneTwoThreeShares;
import static io.fulcrum.balancer.balancing.RoutingFixtures.assertOnlyFreeBackendThenNone;
import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static io.fulcrum.balancer.balancing.RoutingFixtures.occupy;
import static io.fulcrum.balancer.balancing.RoutingFixtures.tally;
import static io.fulcrum.balancer.balancing.RoutingFixtures.weightedOneTwoThree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RandomLoadBalancerTest {
    private final FakeClock clock = new FakeClock();

    @Test
    void drawsInProportionToWeight() {
        LoadBalancer lb = new RandomLoadBalancer(weightedOneTwoThree(clock), clock, new SplittableRandom(42), 0);

        assertOneTwoThreeShares(tally(60_000, () -> lb.select(RequestInfo.DEFAULT)), 60_000);
    }

    @Test
    void sameSeedSameSequence() {
        List<Backend> backends = List.of(backend("a", 1, clock), backend("b", 1, clock), backend("c", 1, clock));
        LoadBalancer one = new RandomLoadBalancer(backends, clock, new SplittableRandom(3), 0);
        LoadBalancer two = new RandomLoadBalancer(backends, clock, new SplittableRandom(3), 0);

        for (int i = 0; i < 100; i++) {
            assertEquals(one.select(RequestInfo.DEFAULT), two.select(RequestInfo.DEFAULT));
        }
    }

    @Test
    void neverReturnsAFullBackendAndNullWhenAllAreFull() {
        Backend a = backend("a", "us-east", 10, 1, clock);
        Backend b = backend("b", "us-east", 1, 1, clock);
        LoadBalancer lb = new RandomLoadBalancer(List.of(a, b), clock, new SplittableRandom(1), 0);
        occupy(a, 1);

        assertOnlyFreeBackendThenNone(lb, b, 50, 1);
    }

    @Test
    void slowStartLowersTheShareOfARecoveredBackend() {
        Backend a = backend("a", 1, clock);
        Backend b = backend("b", 1, clock);
        LoadBalancer lb = new RandomLoadBalancer(List.of(a, b), clock, new SplittableRandom(5),
                TimeUnit.SECONDS.toNanos(10));
        b.state().markRecovered(clock.nanoTime());

        int early = tally(10_000, () -> lb.select(RequestInfo.DEFAULT)).getOrDefault("b", 0);
        clock.advance(10, TimeUnit.SECONDS);
        int later = tally(10_000, () -> lb.select(RequestInfo.DEFAULT)).getOrDefault("b", 0);

        assertTrue(early < 2000, "ramping backend drew " + early);
        assertTrue(later > 4500 && later < 5500, "ramped backend drew " + later);
    }
}
