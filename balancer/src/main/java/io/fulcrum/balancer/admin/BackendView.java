package io.fulcrum.balancer.admin;

import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.BackendState;

/**
 * One backend as {@code GET /backends} shows it: its configuration and a reading of its live
 * state. Immutable; the live fields are read one by one, so they are each current but not a
 * consistent cut across fields.
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
        int inFlight,
        double reportedLoad,
        double latencyEwmaMs,
        long requests,
        long errors) {

    static BackendView of(Backend backend) {
        BackendState s = backend.state();
        return new BackendView(backend.id(), backend.config().url(), backend.region(), backend.weight(),
                backend.maxInFlight(), s.healthy(), s.ejected(), s.draining(), s.routable(), s.inFlight(),
                s.reportedLoad(), s.latencyEwmaNanos() / 1_000_000.0, s.requests(), s.errors());
    }
}
