package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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
 * @param backends the top-level {@code backends}: the pool {@value PoolConfig#DEFAULT}; empty when the
 *     file has only {@code pools}
 * @param health active health checks
 * @param outlier passive outlier ejection
 * @param retry retry attempts and budget
 * @param timeouts connect, response, idle and drain timeouts
 * @param limits header, body and connection limits
 * @param accessLog {@code stdout}, {@code off} or a file path
 * @param backendHeader response header naming the backend that served it, or {@code null} when off
 * @param accessLogFormat {@code json} (default) or {@code logfmt}
 * @param adminToken the bearer token of the admin API's state-changing endpoints
 * @param decisionHeader the opt-in debug header that returns the decision trace, or {@code null}
 * @param tls the HTTPS listener and its certificates, or {@code null} when there is none
 * @param http2 whether and how HTTP/2 is offered to clients
 * @param backendCaFile the CA certificates (PEM) that {@code https://} backends' certificates are
 *     verified against, or {@code null} for the JDK's trust store
 * @param pools the named pools, in file order; a file without {@code pools} has the one pool
 *     {@value PoolConfig#DEFAULT} made of the top-level {@code backends} and sections
 * @param routes the routes in file order, first match wins; empty sends everything to
 *     {@code defaultPool}
 * @param defaultPool the pool of requests no route matches, or {@code null} for a 404
 * @param trustedEdges the proxies in front whose word about the client address is taken, or
 *     {@code null} when none is
 * @param rateLimit the rate limit of every request, or {@code null} when there is none
 * @param headers what becomes of the client-sent {@code Forwarded}, {@code X-Request-Id} and trace
 *     context
 * @param transport the socket transport asked for: {@code auto} (the default), {@code io_uring},
 *     {@code epoll} or {@code nio}
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
        String backendHeader,
        String accessLogFormat,
        AdminTokenConfig adminToken,
        DecisionHeaderConfig decisionHeader,
        TlsConfig tls,
        Http2Config http2,
        Path backendCaFile,
        List<PoolConfig> pools,
        List<RouteConfig> routes,
        String defaultPool,
        TrustedEdgesConfig trustedEdges,
        RateLimitConfig rateLimit,
        HeadersConfig headers,
        String transport) {

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
        requireNonNull(accessLogFormat, "accessLogFormat");
        requireNonNull(adminToken, "adminToken");
        requireNonNull(http2, "http2");
        requireNonNull(headers, "headers");
        requireNonNull(transport, "transport");
        if (backends.stream().map(BackendConfig::id).distinct().count() != backends.size()) {
            throw new IllegalArgumentException("backends: duplicate ids in " + backends);
        }
        if (requireNonNull(pools, "pools").isEmpty()) {
            pools = List.of(new PoolConfig(PoolConfig.DEFAULT, backends, routing, health, outlier, retry, timeouts));
        } else {
            pools = List.copyOf(pools);
        }
        routes = List.copyOf(requireNonNull(routes, "routes"));
        java.util.Set<String> names = new java.util.HashSet<>();
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (PoolConfig p : pools) {
            if (!names.add(p.name())) {
                throw new IllegalArgumentException("pools: duplicate name " + p.name());
            }
            for (BackendConfig b : p.backends()) {
                if (!ids.add(b.id())) {
                    throw new IllegalArgumentException("pools: backend id " + b.id() + " is in two pools");
                }
            }
        }
        if (defaultPool != null && !names.contains(defaultPool)) {
            throw new IllegalArgumentException("defaultPool: no pool " + defaultPool + " (expected: one of " + names + ")");
        }
        for (RouteConfig r : routes) {
            if (r.action() instanceof RouteAction.ToPool to && !names.contains(to.pool())) {
                throw new IllegalArgumentException(r.name() + ".pool: no pool " + to.pool());
            }
        }
    }

    /** Every backend of every pool, pool by pool in file order. */
    public List<BackendConfig> allBackends() {
        return pools.stream().flatMap(p -> p.backends().stream()).toList();
    }

    /** The pool named {@code name}, or {@code null}. */
    public PoolConfig pool(String name) {
        for (PoolConfig p : pools) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /**
     * A short fingerprint of the values in force (the first 16 hex digits of the SHA-256 of this
     * record's text form): equal for two files that say the same thing, whatever their layout or
     * comments. The admin token is not part of it.
     */
    public String hash() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
