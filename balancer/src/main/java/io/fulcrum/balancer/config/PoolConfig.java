package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One named pool of interchangeable backends with its own selection, health checks, outlier
 * ejection, retries, response timeout and queue wait. Every section a pool does not set is inherited, field
 * by field, from the top level of the file, so the values here are the ones in force. Immutable.
 *
 * <p>A file without {@code pools} has exactly one pool, {@value #DEFAULT}, made of the top-level
 * {@code backends} and sections.
 *
 * @param name the pool's name (the same syntax as a backend id)
 * @param backends at least one backend unless {@code discovery} is set; ids are unique across all pools
 * @param routing policy, spillover and slow start ({@code region-header} is the listener's and
 *     always the top-level one)
 * @param health active health checks of this pool's backends
 * @param outlier passive outlier ejection in this pool
 * @param retry retry attempts and budget; retries stay within the pool
 * @param timeouts the top-level timeouts with this pool's {@code response} and {@code queue} timeouts
 * @param discovery where the pool's backends come from instead of {@code backends} (then empty),
 *     or {@code null} for the static list
 * @param protocol how the pool's backends are spoken to
 */
public record PoolConfig(String name, List<BackendConfig> backends, RoutingConfig routing, HealthConfig health,
        OutlierConfig outlier, RetryConfig retry, TimeoutsConfig timeouts, DiscoveryConfig discovery,
        BackendProtocol protocol) {
    /** The name of the pool that a file's top-level {@code backends} make. */
    public static final String DEFAULT = "default";

    /** A pool of the static {@code backends}. */
    public PoolConfig(String name, List<BackendConfig> backends, RoutingConfig routing, HealthConfig health,
            OutlierConfig outlier, RetryConfig retry, TimeoutsConfig timeouts) {
        this(name, backends, routing, health, outlier, retry, timeouts, null);
    }

    /** A pool of HTTP/1.1 backends. */
    public PoolConfig(String name, List<BackendConfig> backends, RoutingConfig routing, HealthConfig health,
            OutlierConfig outlier, RetryConfig retry, TimeoutsConfig timeouts, DiscoveryConfig discovery) {
        this(name, backends, routing, health, outlier, retry, timeouts, discovery, BackendProtocol.HTTP1);
    }

    public PoolConfig {
        requireNonNull(name, "name");
        backends = List.copyOf(requireNonNull(backends, "backends"));
        requireNonNull(routing, "routing");
        requireNonNull(health, "health");
        requireNonNull(outlier, "outlier");
        requireNonNull(retry, "retry");
        requireNonNull(timeouts, "timeouts");
        requireNonNull(protocol, "protocol");
    }

    /** {@code found} (the static list, or what discovery found), each spoken to over this pool's protocol. */
    public List<BackendConfig> withProtocol(List<BackendConfig> found) {
        if (protocol == BackendProtocol.HTTP1) {
            return found;
        }
        return found.stream().map(b -> b.withProtocol(protocol)).toList();
    }
}
