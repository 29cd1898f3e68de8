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
 * constructors only guard invariants that no loaded config can break. Code builds one with
 * {@link #builder()}, which names every value instead of passing two dozen by position.
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
 * @param backendTls the CA certificates that {@code https://} backends' certificates are verified
 *     against, and the client certificate presented to them
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
 * @param redis the fleet's Redis, or {@code null} when no rate limit keeps its buckets there
 * @param clientNetworks the client networks allowed and denied where a route has none of its own,
 *     or {@code null} for every client
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
        BackendTlsConfig backendTls,
        List<PoolConfig> pools,
        List<RouteConfig> routes,
        String defaultPool,
        TrustedEdgesConfig trustedEdges,
        RateLimitConfig rateLimit,
        HeadersConfig headers,
        String transport,
        RedisConfig redis,
        ClientNetworksConfig clientNetworks) {

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
            for (String pool : RouteAction.pools(r.action())) {
                if (!names.contains(pool)) {
                    throw new IllegalArgumentException(r.name() + ".pool: no pool " + pool);
                }
            }
            if (r.traffic().mirror() != null && !names.contains(r.traffic().mirror().pool())) {
                throw new IllegalArgumentException(r.name() + ".mirror.pool: no pool " + r.traffic().mirror().pool());
            }
        }
    }

    /** Every backend of every pool, pool by pool in file order. */
    public List<BackendConfig> allBackends() {
        return pools.stream().flatMap(p -> p.backends().stream()).toList();
    }

    /**
     * The files this config was read from besides its own file, each read again by a reload and
     * watched with it: the routes' users files.
     */
    public List<Path> namedFiles() {
        return routes.stream().map(r -> r.access().basicAuth()).filter(java.util.Objects::nonNull)
                .map(BasicAuthConfig::usersFile).distinct().toList();
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

    /**
     * A builder whose optional values start as a file without them would have them: the JSON access
     * log, no admin token, no decision header, no TLS, the default HTTP/2 settings, the JDK's trust
     * store, one pool {@value PoolConfig#DEFAULT} of {@code backends}, no routes, no trusted edges,
     * no rate limit and the default {@link HeadersConfig}.
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Collects the values of a {@link BalancerConfig}; {@link #build()} validates them in the
     * record's compact constructor. Not thread safe; a builder may build several configs.
     */
    public static final class Builder {
        private ListenConfig listen;
        private ListenConfig admin;
        private String region;
        private RoutingConfig routing;
        private List<BackendConfig> backends;
        private HealthConfig health;
        private OutlierConfig outlier;
        private RetryConfig retry;
        private TimeoutsConfig timeouts;
        private LimitsConfig limits;
        private String accessLog;
        private String backendHeader;
        private String accessLogFormat = "json";
        private String transport = "auto";
        private AdminTokenConfig adminToken = AdminTokenConfig.NONE;
        private DecisionHeaderConfig decisionHeader;
        private TlsConfig tls;
        private Http2Config http2 = Http2Config.DEFAULT;
        private BackendTlsConfig backendTls = BackendTlsConfig.DEFAULT;
        private List<PoolConfig> pools = List.of();
        private List<RouteConfig> routes = List.of();
        private String defaultPool = PoolConfig.DEFAULT;
        private TrustedEdgesConfig trustedEdges;
        private RateLimitConfig rateLimit;
        private HeadersConfig headers = HeadersConfig.DEFAULT;
        private RedisConfig redis;
        private ClientNetworksConfig clientNetworks;

        private Builder() {
        }

        /** The traffic port. Required. */
        public Builder listen(ListenConfig listen) {
            this.listen = requireNonNull(listen, "listen");
            return this;
        }

        /** The admin port. Required. */
        public Builder admin(ListenConfig admin) {
            this.admin = requireNonNull(admin, "admin");
            return this;
        }

        /** The region this balancer runs in. Required. */
        public Builder region(String region) {
            this.region = requireNonNull(region, "region");
            return this;
        }

        /** Policy, region header and spillover. Required. */
        public Builder routing(RoutingConfig routing) {
            this.routing = requireNonNull(routing, "routing");
            return this;
        }

        /** The top-level backends (the pool {@value PoolConfig#DEFAULT}). Required; may be empty. */
        public Builder backends(List<BackendConfig> backends) {
            this.backends = requireNonNull(backends, "backends");
            return this;
        }

        /** Active health checks. Required. */
        public Builder health(HealthConfig health) {
            this.health = requireNonNull(health, "health");
            return this;
        }

        /** Passive outlier ejection. Required. */
        public Builder outlier(OutlierConfig outlier) {
            this.outlier = requireNonNull(outlier, "outlier");
            return this;
        }

        /** Retry attempts and budget. Required. */
        public Builder retry(RetryConfig retry) {
            this.retry = requireNonNull(retry, "retry");
            return this;
        }

        /** Connect, response, idle and drain timeouts. Required. */
        public Builder timeouts(TimeoutsConfig timeouts) {
            this.timeouts = requireNonNull(timeouts, "timeouts");
            return this;
        }

        /** Header, body and connection limits. Required. */
        public Builder limits(LimitsConfig limits) {
            this.limits = requireNonNull(limits, "limits");
            return this;
        }

        /** {@code stdout}, {@code off} or a file path. Required. */
        public Builder accessLog(String accessLog) {
            this.accessLog = requireNonNull(accessLog, "accessLog");
            return this;
        }

        /** The response header naming the backend that served it; {@code null} (the default) is off. */
        public Builder backendHeader(String backendHeader) {
            this.backendHeader = backendHeader;
            return this;
        }

        /** {@code auto} (the default), {@code io_uring}, {@code epoll} or {@code nio}; a restart applies it. */
        public Builder transport(String transport) {
            this.transport = requireNonNull(transport, "transport");
            return this;
        }

        /** {@code json} (the default) or {@code logfmt}. */
        public Builder accessLogFormat(String accessLogFormat) {
            this.accessLogFormat = requireNonNull(accessLogFormat, "accessLogFormat");
            return this;
        }

        /** The admin API's bearer token; {@link AdminTokenConfig#NONE} by default. */
        public Builder adminToken(AdminTokenConfig adminToken) {
            this.adminToken = requireNonNull(adminToken, "adminToken");
            return this;
        }

        /** The debug header that returns the decision trace; {@code null} (the default) is off. */
        public Builder decisionHeader(DecisionHeaderConfig decisionHeader) {
            this.decisionHeader = decisionHeader;
            return this;
        }

        /** The HTTPS listener; {@code null} (the default) is none. */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        /** Whether and how HTTP/2 is offered; {@link Http2Config#DEFAULT} by default. */
        public Builder http2(Http2Config http2) {
            this.http2 = requireNonNull(http2, "http2");
            return this;
        }

        /** TLS toward {@code https://} backends; the default trusts the JDK's trust store and presents no certificate. */
        public Builder backendTls(BackendTlsConfig backendTls) {
            this.backendTls = backendTls;
            return this;
        }

        /** The named pools; empty (the default) is one pool {@value PoolConfig#DEFAULT} of {@code backends}. */
        public Builder pools(List<PoolConfig> pools) {
            this.pools = requireNonNull(pools, "pools");
            return this;
        }

        /** The routes, first match wins; none by default. */
        public Builder routes(List<RouteConfig> routes) {
            this.routes = requireNonNull(routes, "routes");
            return this;
        }

        /** The pool of requests no route matches ({@value PoolConfig#DEFAULT} by default); {@code null} is a 404. */
        public Builder defaultPool(String defaultPool) {
            this.defaultPool = defaultPool;
            return this;
        }

        /** The proxies whose word about the client address is taken; {@code null} (the default) is none. */
        public Builder trustedEdges(TrustedEdgesConfig trustedEdges) {
            this.trustedEdges = trustedEdges;
            return this;
        }

        /** The rate limit of every request; {@code null} (the default) is none. */
        public Builder rateLimit(RateLimitConfig rateLimit) {
            this.rateLimit = rateLimit;
            return this;
        }

        /** The fleet's Redis for rate limits with {@code store: redis}; {@code null} (the default) is none. */
        public Builder redis(RedisConfig redis) {
            this.redis = redis;
            return this;
        }

        /** What becomes of client-sent forwarding and trace headers; {@link HeadersConfig#DEFAULT} by default. */
        public Builder headers(HeadersConfig headers) {
            this.headers = requireNonNull(headers, "headers");
            return this;
        }

        /** The client networks allowed and denied; {@code null} (the default) lets every client in. */
        public Builder clientNetworks(ClientNetworksConfig clientNetworks) {
            this.clientNetworks = clientNetworks;
            return this;
        }

        /**
         * The config of the values given.
         *
         * @throws NullPointerException when a required value was not given
         * @throws IllegalArgumentException when the values break an invariant of the record
         */
        public BalancerConfig build() {
            return new BalancerConfig(listen, admin, region, routing, backends, health, outlier, retry, timeouts,
                    limits, accessLog, backendHeader, accessLogFormat, adminToken, decisionHeader, tls, http2,
                    backendTls, pools, routes, defaultPool, trustedEdges, rateLimit, headers, transport, redis,
                    clientNetworks);
        }
    }
}
