package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.NO_SLOW_START;
import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static io.fulcrum.balancer.balancing.RoutingFixtures.occupy;
import static io.fulcrum.balancer.balancing.RoutingFixtures.routing;
import static io.fulcrum.balancer.balancing.RoutingFixtures.tally;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.RoutingConfig.Policy;
import io.fulcrum.balancer.config.RoutingConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Region locality, spill-over, panic mode and admission, for every policy. */
class RegionAwareLoadBalancerTest {
    private final FakeClock clock = new FakeClock();
    // max-in-flight 10, saturation 0.8: busy at 8 in flight.
    private final Backend us1 = backend("us-1", "us-east", 1, 10, clock);
    private final Backend us2 = backend("us-2", "us-east", 1, 10, clock);
    private final Backend eu1 = backend("eu-1", "eu-west", 1, 10, clock);
    private final Backend ap1 = backend("ap-1", "ap-south", 1, 10, clock);
    private final List<Backend> all = List.of(us1, us2, eu1, ap1);

    @ParameterizedTest
    @EnumSource(Policy.class)
    void staysLocalWhileLocalBackendsAreBelowSaturation(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        occupy(us1, 7);

        Map<String, Integer> counts = tally(1000, () -> lb.select(RequestInfo.DEFAULT));

        assertEquals(1000, counts.getOrDefault("us-1", 0) + counts.getOrDefault("us-2", 0), counts.toString());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void spillsToTheNextRegionWhenLocalIsSaturated(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        occupy(us1, 8);
        occupy(us2, 9);

        assertEquals(Map.of("eu-1", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)),
                "default order is every other region in config order: eu-west before ap-south");
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void spillsOnlyAsFarAsNeeded(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        occupy(us1, 8);
        occupy(us2, 8);
        occupy(eu1, 8);

        assertEquals(Map.of("ap-1", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)));
        assertEquals(0, lb.panicSelections());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void whenEveryRegionIsSaturatedNearCapacityComesFirst(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        occupy(us1, 9);
        occupy(us2, 10);
        occupy(eu1, 9);
        occupy(ap1, 9);

        assertEquals("us-1", lb.select(RequestInfo.DEFAULT).id());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void allGoToTheOtherRegionWhenEveryLocalBackendIsDown(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        us1.state().setHealthy(false);
        us2.state().eject(Long.MAX_VALUE);

        assertEquals(Map.of("eu-1", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)));
        assertEquals(0, lb.panicSelections(), "another region is not panic");
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void explicitOrderComesFirstThenEveryOtherRegion(Policy policy) {
        LoadBalancer lb = build(policy, List.of("ap-south"));
        occupy(us1, 8);
        occupy(us2, 8);

        assertEquals(Map.of("ap-1", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)), "the listed region first");

        occupy(ap1, 8);
        assertEquals(Map.of("eu-1", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)),
                "then a region the order does not list, while it has room below saturation");
        assertEquals(0, lb.panicSelections());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void aHealthyRegionOutsideTheOrderIsUsedBeforePanic(Policy policy) {
        us1.state().setHealthy(false);
        us2.state().setHealthy(false);
        ap1.state().setHealthy(false);
        LoadBalancer lb = build(policy, List.of("ap-south"));

        assertEquals(Map.of("eu-1", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)));
        assertEquals(0, lb.panicSelections(), "panic only when no healthy backend exists anywhere");
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void aBackendHeldDownAfterAConnectFailureIsSkippedAndTheRegionSpillsWhenAllAre(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        long second = 1_000_000_000L;
        us1.state().holdDown(clock.nanoTime(), second, second);

        assertEquals(Map.of("us-2", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)));

        us2.state().holdDown(clock.nanoTime(), second, second);
        assertEquals(Map.of("eu-1", 100), tally(100, () -> lb.select(RequestInfo.DEFAULT)),
                "the next region at once, with no health check or ejection needed");
        assertEquals(0, lb.panicSelections());

        clock.advance(second, java.util.concurrent.TimeUnit.NANOSECONDS);
        Map<String, Integer> back = tally(100, () -> lb.select(RequestInfo.DEFAULT));
        assertEquals(100, back.getOrDefault("us-1", 0) + back.getOrDefault("us-2", 0),
                "local again once the hold-down is over: " + back);
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void everyBackendHeldDownIsPanic(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        for (Backend b : all) {
            b.state().holdDown(clock.nanoTime(), 1_000_000_000L, 1_000_000_000L);
        }

        assertTrue(lb.select(RequestInfo.DEFAULT) != null, "panic mode still tries something");
        assertEquals(1, lb.panicSelections());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void clientRegionIsPreferredOverTheBalancersOwn(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        RequestInfo fromEu = new RequestInfo("eu-west", List.of());

        assertEquals(Map.of("eu-1", 100), tally(100, () -> lb.select(fromEu)));
    }

    /**
     * Clients the balancer's own region (us-east) serves, under every policy: the client's region
     * (its spill-over order, and how many of eu-1's 10 slots are taken).
     */
    static Stream<Arguments> clientsServedByTheBalancersOwnRegion() {
        return Arrays.stream(Policy.values()).flatMap(policy -> Stream.of(
                Arguments.of("a saturated client region spills to the balancer's own region first", policy,
                        "eu-west", List.of("ap-south"), 8),
                Arguments.of("an unknown client region is routed like a local client", policy,
                        "mars-1", List.of(), 0)));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource
    void clientsServedByTheBalancersOwnRegion(String what, Policy policy, String clientRegion, List<String> order,
            int eu1InFlight) {
        LoadBalancer lb = build(policy, order);
        occupy(eu1, eu1InFlight);
        RequestInfo client = new RequestInfo(clientRegion, List.of());

        Map<String, Integer> counts = tally(100, () -> lb.select(client));

        assertEquals(100, counts.getOrDefault("us-1", 0) + counts.getOrDefault("us-2", 0), what + ": " + counts);
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void panicModeUsesEveryNonDrainingBackendAndCountsIt(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        us1.state().setHealthy(false);
        us2.state().setHealthy(false);
        eu1.state().eject(Long.MAX_VALUE);
        ap1.state().setDraining(true);

        Map<String, Integer> counts = tally(300, () -> lb.select(RequestInfo.DEFAULT));

        assertEquals(0, counts.getOrDefault("ap-1", 0), "draining is never chosen, even in panic");
        assertEquals(300, counts.getOrDefault("us-1", 0) + counts.getOrDefault("us-2", 0)
                + counts.getOrDefault("eu-1", 0), counts.toString());
        assertEquals(300, lb.panicSelections());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void panicNeverChoosesAFullBackend(Policy policy) {
        List<Backend> pool = List.of(us1, us2);
        LoadBalancer lb = LoadBalancerFactory.create("us-east", routing(policy), pool, null, clock,
                new SplittableRandom(1));
        us1.state().setHealthy(false);
        us2.state().setHealthy(false);
        occupy(us1, 10);

        assertEquals(Map.of("us-2", 20), tally(20, () -> lb.select(RequestInfo.DEFAULT)));
        occupy(us2, 10);
        assertNull(lb.select(RequestInfo.DEFAULT));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void returnsNullWhenEveryBackendIsFullAndRecoversWhenOneDrains(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        all.forEach(b -> occupy(b, 10));

        assertNull(lb.select(RequestInfo.DEFAULT));
        assertEquals(0, lb.panicSelections(), "full is not panic");

        eu1.state().onRequestEnd(1, Outcome.SUCCESS);
        assertEquals("eu-1", lb.select(RequestInfo.DEFAULT).id());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void fullLocalAndDownRemoteIsAFullPoolNotPanic(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        occupy(us1, 10);
        occupy(us2, 10);
        eu1.state().setHealthy(false);
        ap1.state().setHealthy(false);

        assertNull(lb.select(RequestInfo.DEFAULT));
        assertEquals(0, lb.panicSelections());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void retryAvoidsTheTriedBackendEvenAcrossRegions(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        us2.state().setHealthy(false);
        RequestInfo retry = new RequestInfo(null, List.of(us1));

        assertEquals(Map.of("eu-1", 50), tally(50, () -> lb.select(retry)));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void retryFallsBackToTheTriedBackendWhenItIsTheOnlyOne(Policy policy) {
        LoadBalancer lb = LoadBalancerFactory.create("us-east", routing(policy), List.of(us1), null, clock,
                new SplittableRandom(1));

        assertEquals("us-1", lb.select(new RequestInfo(null, List.of(us1))).id());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void excludedBackendFromAnOlderSnapshotIsStillRecognised(Policy policy) {
        LoadBalancer lb = build(policy, List.of());
        Backend oldUs1 = new Backend(us1.config(), us1.state());
        RequestInfo retry = new RequestInfo(null, List.of(oldUs1));

        assertEquals(Map.of("us-2", 50), tally(50, () -> lb.select(retry)));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void panicCounterCarriesOverASwap(Policy policy) {
        LoadBalancer first = build(policy, List.of());
        all.forEach(b -> b.state().setHealthy(false));
        first.select(RequestInfo.DEFAULT);
        first.select(RequestInfo.DEFAULT);

        LoadBalancer second = LoadBalancerFactory.create("us-east", routing(policy), all, first, clock,
                new SplittableRandom(2));
        second.select(RequestInfo.DEFAULT);

        assertEquals(3, second.panicSelections());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void localRegionWithoutBackendsSpillsAtOnce(Policy policy) {
        LoadBalancer lb = LoadBalancerFactory.create("sa-east", routing(policy), all, null, clock,
                new SplittableRandom(4));

        Map<String, Integer> counts = tally(200, () -> lb.select(RequestInfo.DEFAULT));

        assertEquals(200, counts.getOrDefault("us-1", 0) + counts.getOrDefault("us-2", 0),
                "the first region in config order: " + counts);
    }

    @Test
    void regionOrderPutsClientThenLocalThenSpillOrderThenTheRest() {
        List<String> regions = List.of("us-east", "eu-west", "ap-south");
        assertEquals(List.of("us-east", "eu-west", "ap-south"),
                LoadBalancerFactory.regionOrder("us-east", "us-east", List.of(), regions));
        assertEquals(List.of("ap-south", "us-east", "eu-west"),
                LoadBalancerFactory.regionOrder("ap-south", "us-east", List.of(), regions));
        assertEquals(List.of("eu-west", "us-east", "ap-south"),
                LoadBalancerFactory.regionOrder("eu-west", "us-east", List.of("ap-south", "eu-west"), regions));
        assertEquals(List.of("us-east", "ap-south", "eu-west"),
                LoadBalancerFactory.regionOrder("us-east", "us-east", List.of("ap-south"), regions),
                "regions the order does not list come after it, not never");
    }

    private LoadBalancer build(Policy policy, List<String> order) {
        RoutingConfig routing = routing(policy, 0.8, order, NO_SLOW_START);
        return LoadBalancerFactory.create("us-east", routing, all, null, clock, new SplittableRandom(3));
    }
}
