package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.assertOneTwoThreeShares;
import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static io.fulcrum.balancer.balancing.RoutingFixtures.occupy;
import static io.fulcrum.balancer.balancing.RoutingFixtures.routing;
import static io.fulcrum.balancer.balancing.RoutingFixtures.tally;
import static io.fulcrum.balancer.balancing.RoutingFixtures.weightedOneTwoThree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.RoutingConfig.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WeightedRoundRobinLoadBalancerTest {
    private static final long SLOW_START = TimeUnit.SECONDS.toNanos(30);

    private final FakeClock clock = new FakeClock();
    private final SplittableRandom random = new SplittableRandom(7);

    @Test
    void weightsOneTwoThreeGiveSharesWithinFivePercent() {
        LoadBalancer lb = wrr(weightedOneTwoThree(clock), 0);

        assertOneTwoThreeShares(tally(6000, () -> lb.select(RequestInfo.DEFAULT)), 6000);
    }

    /** The order of a, b and c's turns for their weights. */
    @ParameterizedTest(name = "{0}: weights {1}, {2}, {3} give {4}")
    @CsvSource({
        "the rotation is smooth like nginx's, 5, 1, 1, aabacaaaabacaa",
        "equal weights rotate in config order, 3, 3, 3, abcabc",
    })
    void rotation(String what, int a, int b, int c, String expected) {
        LoadBalancer lb = wrr(List.of(backend("a", a, clock), backend("b", b, clock), backend("c", c, clock)), 0);

        StringBuilder order = new StringBuilder();
        for (int i = 0; i < expected.length(); i++) {
            order.append(lb.select(RequestInfo.DEFAULT).id());
        }
        assertEquals(expected, order.toString(), what);
    }

    @Test
    void positionSurvivesASnapshotSwap() {
        List<Backend> backends = List.of(backend("a", 1, clock), backend("b", 1, clock), backend("c", 1, clock));
        LoadBalancer first = LoadBalancerFactory.create("us-east", routing(Policy.ROUND_ROBIN), backends, null,
                clock, random);
        assertEquals("a", first.select(RequestInfo.DEFAULT).id());

        LoadBalancer second = LoadBalancerFactory.create("us-east", routing(Policy.ROUND_ROBIN), backends, first,
                clock, random);
        assertEquals("b", second.select(RequestInfo.DEFAULT).id());
        LoadBalancer third = LoadBalancerFactory.create("us-east", routing(Policy.ROUND_ROBIN), backends, second,
                clock, random);
        assertEquals("c", third.select(RequestInfo.DEFAULT).id());
    }

    @Test
    void aSwapWithoutPreviousStartsOver() {
        List<Backend> backends = List.of(backend("a", 1, clock), backend("b", 1, clock));
        LoadBalancer first = LoadBalancerFactory.create("us-east", routing(Policy.ROUND_ROBIN), backends, null,
                clock, random);
        first.select(RequestInfo.DEFAULT);

        LoadBalancer fresh = LoadBalancerFactory.create("us-east", routing(Policy.ROUND_ROBIN), backends, null,
                clock, random);
        assertEquals("a", fresh.select(RequestInfo.DEFAULT).id());
    }

    @Test
    void skipsFullAndUnroutableBackends() {
        Backend a = backend("a", "us-east", 1, 1, clock);
        Backend b = backend("b", 1, clock);
        Backend c = backend("c", 1, clock);
        LoadBalancer lb = wrr(List.of(a, b, c), 0);
        occupy(a, 1);
        c.state().setHealthy(false);

        Map<String, Integer> counts = tally(30, () -> lb.select(RequestInfo.DEFAULT));

        assertEquals(Map.of("b", 30), counts);
    }

    @Test
    void returnsNullWhenEveryBackendIsFull() {
        Backend a = backend("a", "us-east", 1, 2, clock);
        Backend b = backend("b", "us-east", 3, 1, clock);
        LoadBalancer lb = wrr(List.of(a, b), 0);
        occupy(a, 2);
        occupy(b, 1);

        assertNull(lb.select(RequestInfo.DEFAULT));

        b.state().onRequestEnd(1, Outcome.SUCCESS);
        assertEquals("b", lb.select(RequestInfo.DEFAULT).id());
    }

    @Test
    void excludedBackendIsAvoidedWhileAnotherExists() {
        Backend a = backend("a", 1, clock);
        Backend b = backend("b", 1, clock);
        LoadBalancer lb = wrr(List.of(a, b), 0);
        RequestInfo retry = new RequestInfo(null, List.of(a));

        assertEquals(Map.of("b", 20), tally(20, () -> lb.select(retry)));

        b.state().setHealthy(false);
        assertEquals("a", lb.select(retry).id(), "the excluded one beats no answer");
    }

    @Test
    void slowStartScalesTheShareOfARecoveredBackend() {
        Backend a = backend("a", 1, clock);
        Backend b = backend("b", 1, clock);
        LoadBalancer lb = wrr(List.of(a, b), SLOW_START);
        b.state().markRecovered(clock.nanoTime());

        int early = tally(2000, () -> lb.select(RequestInfo.DEFAULT)).getOrDefault("b", 0);
        clock.advance(15, TimeUnit.SECONDS);
        int half = tally(2000, () -> lb.select(RequestInfo.DEFAULT)).getOrDefault("b", 0);
        clock.advance(15, TimeUnit.SECONDS);
        int full = tally(2000, () -> lb.select(RequestInfo.DEFAULT)).getOrDefault("b", 0);

        assertTrue(early < 200, "10% of its turns at first, got " + early);
        assertTrue(half > 400 && half < 700, "half of its turns mid-way, got " + half);
        assertEquals(1000, full, "all of its turns once ramped");
    }

    @Test
    void hugeWeightSumsAreScaledToABoundedPeriod() {
        List<Backend> backends = new ArrayList<>();
        backends.add(backend("big", 1_000_000, clock));
        backends.add(backend("small", 999_999, clock));
        int[] schedule = WeightedRoundRobinLoadBalancer.schedule(backends.toArray(new Backend[0]));

        assertTrue(schedule.length <= WeightedRoundRobinLoadBalancer.MAX_PERIOD);
        long big = java.util.Arrays.stream(schedule).filter(i -> i == 0).count();
        assertEquals(0.5, (double) big / schedule.length, 0.01);
    }

    private LoadBalancer wrr(List<Backend> backends, long slowStartNanos) {
        return new WeightedRoundRobinLoadBalancer(backends, clock, random, slowStartNanos, new AtomicLong());
    }
}
