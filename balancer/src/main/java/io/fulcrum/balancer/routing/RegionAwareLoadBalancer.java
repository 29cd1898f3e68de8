package io.fulcrum.balancer.routing;

import static java.util.Objects.requireNonNull;

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
 * <p>Thread-safe and allocation-free on {@link #select}: the plans are arrays built once, region
 * lookup is one {@link Map#get} on an immutable map.
 */
final class RegionAwareLoadBalancer implements LoadBalancer {
    private final NanoClock clock;
    private final Map<String, CandidatePicker[]> plans;
    private final CandidatePicker[] localPlan;
    private final CandidatePicker panic;
    private final Admission belowSaturationAvoiding;
    private final Admission belowSaturation;
    private final LongAdder panicSelections;
    /** Region name → picker, kept so the next snapshot can take over round-robin positions. */
    private final Map<String, CandidatePicker> byRegion;

    RegionAwareLoadBalancer(NanoClock clock, Map<String, CandidatePicker> byRegion,
            Map<String, CandidatePicker[]> plans, CandidatePicker[] localPlan, CandidatePicker panic,
            double saturation, LongAdder panicSelections) {
        this.clock = requireNonNull(clock, "clock");
        this.byRegion = Map.copyOf(byRegion);
        this.plans = Map.copyOf(plans);
        this.localPlan = localPlan.clone();
        this.panic = requireNonNull(panic, "panic");
        this.belowSaturationAvoiding = Admission.belowSaturation(saturation, true);
        this.belowSaturation = Admission.belowSaturation(saturation, false);
        this.panicSelections = requireNonNull(panicSelections, "panicSelections");
    }

    @Override
    public Backend select(RequestInfo request) {
        long now = clock.nanoTime();
        String region = request.clientRegion();
        CandidatePicker[] plan = region == null ? localPlan : plans.getOrDefault(region, localPlan);
        List<Backend> excluded = request.excluded();
        boolean anyExcluded = !excluded.isEmpty();
        Backend b = anyExcluded
                ? inPlan(plan, belowSaturationAvoiding, Admission.CAPACITY_AVOIDING, excluded, now)
                : null;
        if (b == null) {
            b = inPlan(plan, belowSaturation, Admission.CAPACITY, excluded, now);
        }
        if (b != null || anyRoutable(plan, now)) {
            return b;
        }
        b = anyExcluded ? panic.pick(Admission.PANIC_AVOIDING, excluded, now) : null;
        if (b == null) {
            b = panic.pick(Admission.PANIC, excluded, now);
        }
        if (b != null) {
            panicSelections.increment();
        }
        return b;
    }

    @Override
    public long panicSelections() {
        return panicSelections.sum();
    }

    /** The shared panic counter, handed on to the next snapshot's balancer so it never resets. */
    LongAdder panicCounter() {
        return panicSelections;
    }

    /** The picker of a region, or {@code null}; for carrying state over a swap. */
    CandidatePicker regionPicker(String region) {
        return byRegion.get(region);
    }

    CandidatePicker panicPicker() {
        return panic;
    }

    private static Backend inPlan(CandidatePicker[] plan, Admission spill, Admission full,
            List<Backend> excluded, long now) {
        for (CandidatePicker p : plan) {
            Backend b = p.pick(spill, excluded, now);
            if (b != null) {
                return b;
            }
        }
        for (CandidatePicker p : plan) {
            Backend b = p.pick(full, excluded, now);
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
