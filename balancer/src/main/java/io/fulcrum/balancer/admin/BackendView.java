package io.fulcrum.balancer.admin;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendState;
import java.time.Instant;

/**
 * One backend as {@code GET /backends} shows it: its configuration and a reading of its live
 * state as selection uses it now ({@code heldDown}: out of selection for a while after a connect
 * failure), with the last change of state, its reason and time ({@code stateReason},
 * {@code stateSince}, ISO-8601 UTC). Immutable; the live fields are read one by one, so they are each current but not a
 * consistent cut across fields. {@code pool} names the pool the backend is in.
 */
record BackendView(
        String id,
        String url,
        String region,
        int weight,
        int maxInFlight,
        boolean healthy,
        boolean ejected,
        boolean draining,
        boolean routable,
        boolean heldDown,
        int inFlight,
        double reportedLoad,
        double latencyEwmaMs,
        long requests,
        long errors,
        String state,
        String stateReason,
        String stateSince,
        long ejections,
        long holdDowns,
        String pool) {

    static BackendView of(Backend backend, String pool) {
        BackendState s = backend.state();
        long now = System.nanoTime();
        // The values selection uses at this instant: latency decayed, an expired load report as 0.
        return new BackendView(backend.id(), backend.config().url(), backend.region(), backend.weight(),
                backend.maxInFlight(), s.healthy(), s.ejected(), s.draining(), s.routable(), s.heldDown(now),
                s.inFlight(), s.reportedLoad(now), s.latencyEwmaNanos(now) / 1_000_000.0, s.requests(), s.errors(),
                state(s, now), s.lastChange().reason(),
                Instant.ofEpochMilli(s.lastChange().atEpochMillis()).toString(), s.ejections(), s.holdDowns(), pool);
    }

    /** The state selection sees now: draining, down, ejected, held-down or up. */
    static String state(BackendState s, long now) {
        return s.draining() ? "draining" : !s.healthy() ? "down" : s.ejected() ? "ejected"
                : s.heldDown(now) ? "held-down" : "up";
    }
}
