package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.access.AccessRules;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.HeadersConfig;
import io.fulcrum.balancer.edge.ClientCertificateHeaders;
import io.fulcrum.balancer.config.LimitsConfig;
import io.fulcrum.balancer.config.PoolConfig;
import io.fulcrum.balancer.config.RetryConfig;
import io.fulcrum.balancer.config.RouteLimitsConfig;
import io.fulcrum.balancer.config.TimeoutsConfig;
import io.fulcrum.balancer.edge.DebugAccess;
import io.fulcrum.balancer.edge.KeyedLimiter;
import io.fulcrum.balancer.edge.RateLimits;
import io.fulcrum.balancer.edge.RedisBuckets;
import io.fulcrum.balancer.edge.TrustedEdges;
import io.netty.util.AsciiString;
import java.time.Duration;

/**
 * The values the request path needs, precomputed from one {@link BalancerConfig}. Immutable;
 * swapped as a whole on reload and read once per request.
 *
 * @param regionHeader header carrying the client's region, or {@code null}
 * @param backendHeader response header naming the backend, or {@code null}
 * @param responseTimeoutNanos the client's whole wait for the response head, all tries together
 * @param perTryTimeoutNanos the wait of one try for its response head, or 0 when only the whole
 *     wait applies
 * @param maxBodyBytes request bodies past this get 413
 * @param retryAttempts extra tries after the first
 * @param replayBodyBytes request bodies up to this size are kept for a retry
 * @param retryBudgetPercent {@code retry.budget-percent}
 * @param maxConnections client connections past this are refused
 * @param queueTimeoutNanos how long a request waits in its pool's {@link AdmissionQueue} for a
 *     backend below max-in-flight, or 0 to fail at once
 * @param maxQueue requests that may wait in one pool's queue at once, or 0 for none
 * @param debug who may ask for the full decision trace, or {@code null} when nobody may
 * @param trustedEdges whose word about the client address is taken, or {@code null} for nobody's;
 *     only in the top-level settings ({@link ProxyContext#settings()}), a pool's have {@code null}
 * @param rateLimits the top-level and per-route rate limits, or {@code null} for none; their
 *     buckets survive a reload that keeps the same limit ({@link ProxyContext#apply}); only in the
 *     top-level settings, a pool's have {@code null}
 * @param headers what becomes of the client-sent {@code Forwarded}, {@code X-Request-Id} and trace
 *     context; read from the top-level settings
 * @param connectionsPerClient client connections from one address past this are refused, 0 for
 *     no cap
 * @param clientCertificateHeaders the headers that carry a client certificate's identity to the
 *     backends, or {@code null} when clients are not asked for certificates; read from the
 *     top-level settings
 * @param access the client networks, authentication and CORS of the top level and each route, or
 *     {@code null} for none; only in the top-level settings, a pool's have {@code null}
 * @param maxResponseBytes response bodies past this are cut, 0 for no limit
 */
public record ProxySettings(
        AsciiString regionHeader,
        AsciiString backendHeader,
        long responseTimeoutNanos,
        long perTryTimeoutNanos,
        long maxBodyBytes,
        int retryAttempts,
        int replayBodyBytes,
        int retryBudgetPercent,
        int maxConnections,
        long queueTimeoutNanos,
        int maxQueue,
        DebugAccess debug,
        TrustedEdges trustedEdges,
        RateLimits rateLimits,
        HeadersConfig headers,
        int connectionsPerClient,
        ClientCertificateHeaders clientCertificateHeaders,
        AccessRules access,
        long maxResponseBytes) {

    /** Settings without the decision header. */
    public ProxySettings(AsciiString regionHeader, AsciiString backendHeader, long responseTimeoutNanos,
            long perTryTimeoutNanos, long maxBodyBytes, int retryAttempts, int replayBodyBytes, int retryBudgetPercent,
            int maxConnections) {
        this(regionHeader, backendHeader, responseTimeoutNanos, perTryTimeoutNanos, maxBodyBytes, retryAttempts,
                replayBodyBytes, retryBudgetPercent, maxConnections, TimeoutsConfig.DEFAULT_QUEUE.toNanos(),
                LimitsConfig.DEFAULT_MAX_QUEUE, null, null, null, HeadersConfig.DEFAULT, 0, null, null, 0);
    }

    /** Settings without a per-client connection cap. */
    public ProxySettings(AsciiString regionHeader, AsciiString backendHeader, long responseTimeoutNanos,
            long perTryTimeoutNanos, long maxBodyBytes, int retryAttempts, int replayBodyBytes, int retryBudgetPercent,
            int maxConnections, long queueTimeoutNanos, int maxQueue, DebugAccess debug, TrustedEdges trustedEdges,
            RateLimits rateLimits, HeadersConfig headers) {
        this(regionHeader, backendHeader, responseTimeoutNanos, perTryTimeoutNanos, maxBodyBytes, retryAttempts,
                replayBodyBytes, retryBudgetPercent, maxConnections, queueTimeoutNanos, maxQueue, debug, trustedEdges,
                rateLimits, headers, 0, null, null, 0);
    }

    /** Whether a request that finds every backend full may wait for one. */
    boolean queues() {
        return queueTimeoutNanos > 0 && maxQueue > 0;
    }

    /** These settings with {@code limits} instead of theirs (a reload keeps buckets that did not change). */
    ProxySettings withRateLimits(RateLimits limits) {
        return new ProxySettings(regionHeader, backendHeader, responseTimeoutNanos, perTryTimeoutNanos, maxBodyBytes,
                retryAttempts, replayBodyBytes, retryBudgetPercent, maxConnections, queueTimeoutNanos, maxQueue, debug,
                trustedEdges, limits, headers, connectionsPerClient, clientCertificateHeaders, access,
                maxResponseBytes);
    }

    /**
     * These settings with a route's own timeouts and response limit in place of these (a pool's);
     * these settings themselves when the route has none.
     */
    ProxySettings forRoute(RouteLimitsConfig route) {
        if (route == RouteLimitsConfig.NONE) {
            return this;
        }
        long response = route.response() == null ? responseTimeoutNanos : route.response().toNanos();
        return new ProxySettings(regionHeader, backendHeader, response,
                perTryTimeoutNanos < response ? perTryTimeoutNanos : 0, maxBodyBytes, retryAttempts, replayBodyBytes,
                retryBudgetPercent, maxConnections, route.queue() == null ? queueTimeoutNanos : route.queue().toNanos(),
                maxQueue, debug, trustedEdges, rateLimits, headers, connectionsPerClient, clientCertificateHeaders,
                access, route.maxResponseBytes() == RouteLimitsConfig.INHERIT ? maxResponseBytes : route.maxResponseBytes());
    }

    /** The top-level rate limiter, or {@code null} when there is none. */
    public KeyedLimiter rateLimiter() {
        return rateLimits == null ? null : rateLimits.fallback();
    }

    /** Keys held now by every rate limit's table together (for the metrics). */
    public int rateLimitKeys() {
        return rateLimits == null ? 0 : rateLimits.keys();
    }

    /** The top-level settings: the client side's (trusted edges, rate limit) and the default pool's; every rate limit local. */
    public static ProxySettings from(BalancerConfig config) {
        return from(config, (RedisBuckets) null);
    }

    /**
     * The top-level settings: the client side's (trusted edges, rate limit) and the default pool's.
     *
     * @param store the fleet's buckets for the rate limits with {@code store: redis}, or {@code null}
     */
    public static ProxySettings from(BalancerConfig config, RedisBuckets store) {
        return from(config, config.retry(), config.timeouts(), store, true, null);
    }

    /**
     * The top-level settings after a reload: as {@link #from(BalancerConfig, RedisBuckets)}, the
     * access rules built from the ones in force ({@link AccessRules#from(BalancerConfig, AccessRules)}).
     */
    public static ProxySettings reloaded(BalancerConfig config, RedisBuckets store, ProxySettings inForce) {
        return from(config, config.retry(), config.timeouts(), store, true, inForce.access());
    }

    /**
     * The settings of requests routed to {@code pool}: its retries, response timeout and queue wait, the rest
     * from the top level.
     */
    public static ProxySettings from(BalancerConfig config, PoolConfig pool) {
        return from(config, pool.retry(), pool.timeouts(), null, false, null);
    }

    private static ProxySettings from(BalancerConfig config, RetryConfig retry, TimeoutsConfig timeouts,
            RedisBuckets store, boolean top, AccessRules accessInForce) {
        return new ProxySettings(
                config.routing().regionHeader() == null ? null : AsciiString.cached(config.routing().regionHeader()),
                config.backendHeader() == null ? null : AsciiString.cached(config.backendHeader()),
                timeouts.response().toNanos(),
                perTry(retry, timeouts),
                config.limits().maxBodyBytes(),
                retry.attempts(),
                retry.replayBodyBytes(),
                retry.budgetPercent(),
                config.limits().maxConnections(),
                timeouts.queue().toNanos(),
                config.limits().maxQueue(),
                config.decisionHeader() == null ? null : new DebugAccess(config.decisionHeader()),
                !top || config.trustedEdges() == null ? null : new TrustedEdges(config.trustedEdges()),
                top ? RateLimits.from(config, store) : null,
                config.headers(),
                config.limits().connectionsPerClient(),
                config.tls() == null ? null : ClientCertificateHeaders.of(config.tls().clientCertificates()),
                top ? AccessRules.from(config, accessInForce) : null,
                config.limits().maxResponseBytes());
    }

    /** The per-try timeout when it is shorter than the whole response timeout, else 0. */
    private static long perTry(RetryConfig retry, TimeoutsConfig timeouts) {
        Duration perTry = retry.perTryTimeout();
        return perTry == null || perTry.compareTo(timeouts.response()) >= 0 ? 0 : perTry.toNanos();
    }
}
