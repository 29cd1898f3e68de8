package io.fulcrum.balancer.balancing;

import io.fulcrum.balancer.config.RoutingConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;

/**
 * Builds the {@link LoadBalancer} for a snapshot: one policy instance per region over the backends
 * that are routable at build time, one over every non-draining backend for panic mode, and the
 * spill-over plan of each client region. Runs on the control thread at every swap, so it may
 * allocate freely; the result allocates nothing per request.
 *
 * <p>Spill-over plans. For a client region R the order is: R; then the balancer's own region when R
 * is another one (the header named a region, its backends are busy, the nearest remaining capacity
 * is the balancer's own); then the regions of {@code spillover.order}; then every other region in
 * the order they first appear in the backend list. {@code spillover.order} only decides which
 * regions come first: a healthy region it does not list is still used before panic mode. A client
 * region that no backend has uses the local plan.
 */
public final class LoadBalancerFactory {
    private LoadBalancerFactory() {
    }

    /**
     * Builds on the system clock and the thread-local random source.
     *
     * @param previous the load balancer of the snapshot being replaced, or {@code null}; lets
     *     round-robin positions and the panic counter carry over
     */
    public static LoadBalancer create(String localRegion, RoutingConfig routing, List<Backend> backends,
            LoadBalancer previous) {
        return create(localRegion, routing, backends, previous, NanoClock.SYSTEM, new ThreadLocalRandomSource());
    }

    /**
     * As {@link #create(String, RoutingConfig, List, LoadBalancer)} with an explicit clock and random
     * source, for tests and benchmarks. The random source must be thread-safe if the result is used
     * from several threads.
     */
    public static LoadBalancer create(String localRegion, RoutingConfig routing, List<Backend> backends,
            LoadBalancer previous, NanoClock clock, RandomGenerator random) {
        AffinityLoadBalancer affinityBefore = previous instanceof AffinityLoadBalancer a ? a : null;
        LoadBalancer policy = policy(localRegion, routing, backends,
                affinityBefore == null ? previous : affinityBefore.policy(), clock, random);
        if (routing.affinity() == null) {
            return policy;
        }
        return new AffinityLoadBalancer(policy, Affinity.build(routing.affinity(), backends,
                affinityBefore == null ? null : affinityBefore.affinity()), clock);
    }

    /** The region-aware policy, without affinity. */
    private static LoadBalancer policy(String localRegion, RoutingConfig routing, List<Backend> backends,
            LoadBalancer previous, NanoClock clock, RandomGenerator random) {
        RegionAwareLoadBalancer before = previous instanceof RegionAwareLoadBalancer r ? r : null;
        long slowStartNanos = routing.slowStart().toNanos();

        Map<String, List<Backend>> routableByRegion = new LinkedHashMap<>();
        routableByRegion.put(localRegion, new ArrayList<>());
        List<Backend> notDraining = new ArrayList<>();
        for (Backend b : backends) {
            List<Backend> region = routableByRegion.computeIfAbsent(b.region(), r -> new ArrayList<>());
            if (b.state().routable()) {
                region.add(b);
            }
            if (!b.state().draining()) {
                notDraining.add(b);
            }
        }

        Map<String, CandidatePicker> byRegion = new HashMap<>();
        routableByRegion.forEach((region, list) -> byRegion.put(region, picker(routing, list, clock,
                random, slowStartNanos, before == null ? null : before.regionPicker(region))));
        CandidatePicker panic = picker(routing, notDraining, clock, random, slowStartNanos,
                before == null ? null : before.panicPicker());

        RoutingCounters counters = before == null ? new RoutingCounters() : before.counters();
        Map<String, RegionAwareLoadBalancer.Plan> plans = new HashMap<>();
        for (String region : routableByRegion.keySet()) {
            Map<String, LongAdder> spillTo = new HashMap<>();
            Map<String, LongAdder> panicTo = new HashMap<>();
            for (String to : routableByRegion.keySet()) {
                if (!to.equals(region)) {
                    spillTo.put(to, counters.counter(RoutingCounters.Kind.SPILLOVER, region, to));
                }
                panicTo.put(to, counters.counter(RoutingCounters.Kind.PANIC, region, to));
            }
            plans.put(region, new RegionAwareLoadBalancer.Plan(region,
                    plan(region, localRegion, routing, routableByRegion.keySet(), byRegion),
                    Map.copyOf(spillTo), Map.copyOf(panicTo)));
        }
        return new RegionAwareLoadBalancer(clock, byRegion, plans, plans.get(localRegion), panic,
                routing.spillover().saturation(), counters);
    }

    /** The region order for clients of {@code clientRegion}; see the class comment. */
    static List<String> regionOrder(String clientRegion, String localRegion, List<String> spillOrder,
            Iterable<String> allRegions) {
        Set<String> order = new LinkedHashSet<>();
        order.add(clientRegion);
        order.add(localRegion);
        order.addAll(spillOrder);
        allRegions.forEach(order::add);
        return List.copyOf(order);
    }

    private static CandidatePicker[] plan(String clientRegion, String localRegion, RoutingConfig routing,
            Set<String> allRegions, Map<String, CandidatePicker> byRegion) {
        List<CandidatePicker> plan = new ArrayList<>();
        for (String region : regionOrder(clientRegion, localRegion, routing.spillover().order(), allRegions)) {
            CandidatePicker p = byRegion.get(region);
            if (p != null && !p.candidates().isEmpty()) {
                plan.add(p);
            }
        }
        return plan.toArray(new CandidatePicker[0]);
    }

    private static CandidatePicker picker(RoutingConfig routing, List<Backend> backends, NanoClock clock,
            RandomGenerator random, long slowStartNanos, CandidatePicker previous) {
        return switch (routing.policy()) {
            case LEAST_BUSY -> new LeastBusyLoadBalancer(backends, clock, random, slowStartNanos, routing.leastBusy());
            case RANDOM -> new RandomLoadBalancer(backends, clock, random, slowStartNanos);
            case ROUND_ROBIN -> new WeightedRoundRobinLoadBalancer(backends, clock, random, slowStartNanos,
                    previous instanceof WeightedRoundRobinLoadBalancer w ? w.position() : new AtomicLong());
        };
    }
}
