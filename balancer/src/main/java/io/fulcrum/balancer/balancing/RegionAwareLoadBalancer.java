package io.fulcrum.balancer.balancing;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The routing of DESIGN.md ("How a request is routed") around one policy per region.
 *
 * <p>For the client's region (from the request, else the balancer's own) a precomputed
 * <em>plan</em> lists region pickers: the client's region first, then the spill-over regions, then
 * every other region that has backends ({@link LoadBalancerFactory#regionOrder}). Since the plan
 * covers every region, "no routable backend in the plan" means none anywhere. A
 * selection makes these passes, stopping at the first that finds a backend:
 * <ol>
 *   <li>each region in plan order, only backends below {@code saturation} × max-in-flight: a region
 *       is used while at least one of its backends is below saturation, else the next one;</li>
 *   <li>each region in plan order, any backend below max-in-flight: when everything is saturated,
 *       near capacity still beats far capacity;</li>
 *   <li>when no backend of the plan is routable at all (healthy, not ejected, not held down after a
 *       connect failure): panic mode, every backend that is not draining (unhealthy, ejected and
 *       held-down ones included), counted in {@link #panicSelections()}.</li>
 * </ol>
 * Passes 1 and 2 run first avoiding the request's excluded backends, then allowing them. A backend
 * at max-in-flight is never returned; when routable backends exist but all are full the result is
 * {@code null} (the proxy answers 503 with Retry-After) rather than panic.
 *
 * <p>Selections that leave the client's region are counted in {@link RoutingCounters}: spill-over
 * (passes 1 and 2 finding a backend outside the plan's first region) and panic mode, by source and
 * destination region. A {@link DecisionTrace}, when given, records the pass and the choice.
 *
 * <p>Thread-safe and allocation-free on {@link #select(RequestInfo)}: the plans are arrays built
 * once, region lookup is one {@link Map#get} on an immutable map, and counting a selection outside
 * the client's region one more. A trace costs what it records.
 */
final class RegionAwareLoadBalancer implements LoadBalancer {
    /**
     * The selection order for clients of one region, with the counters of its spill-over and panic
     * selections by destination region, all resolved when the load balancer is built.
     */
    record Plan(String region, CandidatePicker[] pickers, Map<String, LongAdder> spillTo,
            Map<String, LongAdder> panicTo) {
    }

    private final NanoClock clock;
    private final Map<String, Plan> plans;
    private final Plan localPlan;
    private final CandidatePicker panic;
    private final Admission belowSaturationAvoiding;
    private final Admission belowSaturation;
    private final RoutingCounters counters;
    /** Region name → picker, kept so the next snapshot can take over round-robin positions. */
    private final Map<String, CandidatePicker> byRegion;

    RegionAwareLoadBalancer(NanoClock clock, Map<String, CandidatePicker> byRegion, Map<String, Plan> plans,
            Plan localPlan, CandidatePicker panic, double saturation, RoutingCounters counters) {
        this.clock = requireNonNull(clock, "clock");
        this.byRegion = Map.copyOf(byRegion);
        this.plans = Map.copyOf(plans);
        this.localPlan = requireNonNull(localPlan, "localPlan");
        this.panic = requireNonNull(panic, "panic");
        this.belowSaturationAvoiding = Admission.belowSaturation(saturation, true);
        this.belowSaturation = Admission.belowSaturation(saturation, false);
        this.counters = requireNonNull(counters, "counters");
    }

    @Override
    public Backend select(RequestInfo request, DecisionTrace trace) {
        long now = clock.nanoTime();
        String region = request.clientRegion();
        Plan plan = region == null ? localPlan : plans.getOrDefault(region, localPlan);
        CandidatePicker[] pickers = plan.pickers();
        List<Backend> excluded = request.excluded();
        boolean anyExcluded = !excluded.isEmpty();
        DecisionTrace.Pass pass = DecisionTrace.Pass.LOCAL;
        Backend b = null;
        if (anyExcluded) {
            b = first(pickers, belowSaturationAvoiding, excluded, now);
            if (b == null) {
                b = first(pickers, Admission.CAPACITY_AVOIDING, excluded, now);
                pass = DecisionTrace.Pass.SATURATED;
            }
        }
        if (b == null) {
            pass = DecisionTrace.Pass.LOCAL;
            b = first(pickers, belowSaturation, excluded, now);
            if (b == null) {
                b = first(pickers, Admission.CAPACITY, excluded, now);
                pass = DecisionTrace.Pass.SATURATED;
            }
        }
        if (b == null && !anyRoutable(pickers, now)) {
            pass = DecisionTrace.Pass.PANIC;
            b = anyExcluded ? panic.pick(Admission.PANIC_AVOIDING, excluded, now) : null;
            if (b == null) {
                b = panic.pick(Admission.PANIC, excluded, now);
            }
        }
        if (b != null) {
            if (pass == DecisionTrace.Pass.LOCAL && !b.region().equals(plan.region())) {
                pass = DecisionTrace.Pass.SPILLOVER;
            }
            if (trace == null || !trace.explain()) {
                count(plan, b, pass);
            }
        }
        if (trace != null) {
            trace(trace, request, plan, b, pass, now);
        }
        return b;
    }

    /** Counts a panic selection, and a selection outside the plan's region (one map lookup). */
    private static void count(Plan plan, Backend b, DecisionTrace.Pass pass) {
        LongAdder c = null;
        if (pass == DecisionTrace.Pass.PANIC) {
            c = plan.panicTo().get(b.region());
        } else if (!b.region().equals(plan.region())) {
            c = plan.spillTo().get(b.region());
        }
        if (c != null) {
            c.increment();
        }
    }

    private void trace(DecisionTrace trace, RequestInfo request, Plan plan, Backend chosen, DecisionTrace.Pass pass,
            long now) {
        trace.request(request, plan.region());
        trace.chose(chosen, pass);
        int heldDown = 0;
        for (CandidatePicker p : plan.pickers()) {
            List<Backend> candidates = p.candidates();
            if (!candidates.isEmpty() && candidates.get(0).region().equals(plan.region())) {
                for (int i = 0, n = candidates.size(); i < n; i++) {
                    if (candidates.get(i).state().heldDown(now)) {
                        heldDown++;
                    }
                }
            }
        }
        trace.heldDown(heldDown);
        if (!trace.wantsCandidates()) {
            return;
        }
        // Every non-draining backend, the plan's regions first and in plan order.
        List<String> order = new ArrayList<>();
        order.add(plan.region());
        for (CandidatePicker p : plan.pickers()) {
            if (!p.candidates().isEmpty() && !order.contains(p.candidates().get(0).region())) {
                order.add(p.candidates().get(0).region());
            }
        }
        List<Backend> all = new ArrayList<>(panic.candidates());
        all.sort(Comparator.comparingInt(b -> {
            int i = order.indexOf(b.region());
            return i < 0 ? order.size() : i;
        }));
        trace.candidates(DecisionTrace.describe(all, now, costTerms(now)));
    }

    /** The panic picker's view of the cost terms: it sees every non-draining backend. */
    private DecisionTrace.CostTerms costTerms(long now) {
        if (panic instanceof LeastBusyLoadBalancer lb) {
            return new DecisionTrace.CostTerms() {
                @Override
                public double cost(Backend b) {
                    return lb.cost(b, now);
                }

                @Override
                public double warmUp(Backend b) {
                    return lb.warmUp(b, now);
                }

                @Override
                public double errorFactor(Backend b) {
                    return lb.errorFactor(b, now);
                }
            };
        }
        long slowStart = panic instanceof PolicyLoadBalancer p ? p.slowStartNanos : 0;
        return new DecisionTrace.CostTerms() {
            @Override
            public double cost(Backend b) {
                return Double.NaN;
            }

            @Override
            public double warmUp(Backend b) {
                return b.state().slowStartFactor(now, slowStart);
            }

            @Override
            public double errorFactor(Backend b) {
                return Double.NaN;
            }
        };
    }

    @Override
    public long panicSelections() {
        return counters.total(RoutingCounters.Kind.PANIC);
    }

    @Override
    public RoutingCounters counters() {
        return counters;
    }

    /** The picker of a region, or {@code null}; for carrying state over a swap. */
    CandidatePicker regionPicker(String region) {
        return byRegion.get(region);
    }

    CandidatePicker panicPicker() {
        return panic;
    }

    /** The first backend a picker of the plan returns under {@code admission}, in plan order. */
    private static Backend first(CandidatePicker[] plan, Admission admission, List<Backend> excluded, long now) {
        for (CandidatePicker p : plan) {
            Backend b = p.pick(admission, excluded, now);
            if (b != null) {
                return b;
            }
        }
        return null;
    }

    /**
     * Slow path only: whether any candidate of the plan is routable right now, neither flagged
     * down nor held down after a connect failure. When one is, the request waits for capacity
     * (503) instead of going to backends known to be failing.
     */
    private static boolean anyRoutable(CandidatePicker[] plan, long now) {
        for (CandidatePicker p : plan) {
            List<Backend> candidates = p.candidates();
            for (int i = 0, n = candidates.size(); i < n; i++) {
                BackendState s = candidates.get(i).state();
                if (s.routable() && !s.heldDown(now)) {
                    return true;
                }
            }
        }
        return false;
    }
}
