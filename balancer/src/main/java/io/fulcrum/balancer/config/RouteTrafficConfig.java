package io.fulcrum.balancer.config;

/**
 * What a route to a pool does with its traffic besides sending it there: a copy of a share of it
 * to a shadow pool, and a second try of a slow idempotent request. Immutable.
 *
 * @param mirror the route's mirroring, or {@code null} for none
 * @param hedge the route's hedged requests, or {@code null} for none
 */
public record RouteTrafficConfig(MirrorConfig mirror, HedgeConfig hedge) {
    /** Nothing besides. */
    public static final RouteTrafficConfig NONE = new RouteTrafficConfig(null, null);
}
