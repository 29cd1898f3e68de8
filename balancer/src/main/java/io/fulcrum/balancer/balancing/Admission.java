package io.fulcrum.balancer.balancing;

import java.util.List;

/**
 * Which backends a selection pass may return. The region logic runs a policy several times over the
 * same candidates with stricter or looser rules: first only backends below saturation, then any
 * below max-in-flight, and in panic mode any that is not draining. Each pass may also avoid the
 * backends a retry already tried. Immutable; the few instances needed are built once per load
 * balancer so the selection path allocates nothing.
 */
final class Admission {
    /** Routable and below max-in-flight, excluded backends allowed: a plain policy's last pass. */
    static final Admission CAPACITY = new Admission(false, 1, false, false);
    /** Routable, below max-in-flight, not excluded. */
    static final Admission CAPACITY_AVOIDING = new Admission(false, 1, false, true);
    /** Not draining and below max-in-flight, excluded allowed: panic mode's last pass. */
    static final Admission PANIC = new Admission(true, 1, false, false);
    /** Not draining, below max-in-flight, not excluded. */
    static final Admission PANIC_AVOIDING = new Admission(true, 1, false, true);

    private final boolean panic;
    private final double saturation;
    private final boolean saturationLimited;
    private final boolean avoidExcluded;

    private Admission(boolean panic, double saturation, boolean saturationLimited, boolean avoidExcluded) {
        this.panic = panic;
        this.saturation = saturation;
        this.saturationLimited = saturationLimited;
        this.avoidExcluded = avoidExcluded;
    }

    /** Routable and below {@code saturation} of max-in-flight. */
    static Admission belowSaturation(double saturation, boolean avoidExcluded) {
        return new Admission(false, saturation, true, avoidExcluded);
    }

    /**
     * Whether {@code b} may be chosen in this pass at {@code nowNanos}. Allocation-free. Outside
     * panic mode a backend held down after a connect failure is not admitted.
     */
    boolean admits(Backend b, List<Backend> excluded, long nowNanos) {
        BackendState s = b.state();
        if (panic ? s.draining() : !s.routable() || s.heldDown(nowNanos)) {
            return false;
        }
        int inFlight = s.inFlight();
        int max = b.maxInFlight();
        if (inFlight >= max || (saturationLimited && inFlight >= saturation * max)) {
            return false;
        }
        return !avoidExcluded || !isExcluded(b, excluded);
    }

    /**
     * Compares by live state, not by {@code Backend} identity: a retry may run after a snapshot swap,
     * and the backend it tried then is a different object sharing the same state.
     */
    static boolean isExcluded(Backend b, List<Backend> excluded) {
        BackendState s = b.state();
        for (int i = 0, n = excluded.size(); i < n; i++) {
            if (excluded.get(i).state() == s) {
                return true;
            }
        }
        return false;
    }
}
