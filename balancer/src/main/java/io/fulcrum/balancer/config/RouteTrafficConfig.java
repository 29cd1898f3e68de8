package io.fulcrum.balancer.config;

/**
 * What a route to a pool does with its traffic besides sending it there: a copy of a share of it
 * to a shadow pool. Immutable.
 *
 * @param mirror the route's mirroring, or {@code null} for none
 */
public record RouteTrafficConfig(MirrorConfig mirror) {
    /** Nothing besides. */
    public static final RouteTrafficConfig NONE = new RouteTrafficConfig(null);
}
