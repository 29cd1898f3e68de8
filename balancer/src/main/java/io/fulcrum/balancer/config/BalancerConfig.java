package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The whole balancer configuration, as read from one YAML file. Immutable and thread-safe; a reload
 * builds a new instance and the old one stays in force until the new one is fully valid.
 *
 * <p>Field validation with YAML paths and line numbers happens in {@link ConfigLoader}; the compact
 * constructors only guard invariants that no loaded config can break.
 *
 * @param listen the traffic port
 * @param admin the admin port (health, readiness, metrics, backend status)
 * @param region the region this balancer runs in; its backends are preferred
 * @param routing policy, region header and spillover
 * @param backends the backend pool, at least one, ids unique
 * @param health active health checks
 * @param outlier passive outlier ejection
 * @param retry retry attempts and budget
 * @param timeouts connect, response, idle and drain timeouts
 * @param limits header, body and connection limits
 * @param accessLog {@code stdout}, {@code off} or a file path
 * @param backendHeader response header naming the backend that served it, or {@code null} when off
 */
public record BalancerConfig(
        ListenConfig listen,
        ListenConfig admin,
        String region,
        RoutingConfig routing,
        List<BackendConfig> backends,
        HealthConfig health,
        OutlierConfig outlier,
        RetryConfig retry,
        TimeoutsConfig timeouts,
        LimitsConfig limits,
        String accessLog,
        String backendHeader) {

    public BalancerConfig {
        requireNonNull(listen, "listen");
        requireNonNull(admin, "admin");
        requireNonNull(region, "region");
        requireNonNull(routing, "routing");
        backends = List.copyOf(requireNonNull(backends, "backends"));
        requireNonNull(health, "health");
        requireNonNull(outlier, "outlier");
        requireNonNull(retry, "retry");
        requireNonNull(timeouts, "timeouts");
        requireNonNull(limits, "limits");
        requireNonNull(accessLog, "accessLog");
        if (backends.stream().map(BackendConfig::id).distinct().count() != backends.size()) {
            throw new IllegalArgumentException("backends: duplicate ids in " + backends);
        }
    }
}
