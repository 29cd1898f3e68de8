package io.fulcrum.balancer.config;

import java.util.List;

/**
 * The conditions of a route; all must hold, and an absent one holds for every request.
 * Immutable.
 *
 * @param hosts host names, lower case: exact ({@code api.example.com}) or a suffix
 *     ({@code *.example.com}, which matches {@code a.example.com} but not {@code example.com}); empty
 *     for any host
 * @param path the path condition, or {@code null} for any path
 * @param methods request methods, upper case; empty for any method
 * @param headers header conditions, all of which must hold
 */
public record RouteMatchConfig(List<String> hosts, PathMatchConfig path, List<String> methods,
        List<HeaderMatchConfig> headers) {
    public static final RouteMatchConfig ANY = new RouteMatchConfig(List.of(), null, List.of(), List.of());

    public RouteMatchConfig {
        hosts = List.copyOf(hosts);
        methods = List.copyOf(methods);
        headers = List.copyOf(headers);
    }
}
