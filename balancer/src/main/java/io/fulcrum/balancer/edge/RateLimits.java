package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.RateLimitConfig;
import io.fulcrum.balancer.config.RouteConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.HashMap;
import java.util.Map;

/**
 * The rate limits of one config: the top-level {@code rate-limit}, the default of every request,
 * and each route's own, which replaces it for the requests that route matches ({@code off}: none). Each has a table
 * of its own ({@link RateLimiter}, or {@link FleetRateLimiter} for {@code store: redis}). Applied before any backend is chosen. The key is the client
 * address as found ({@link TrustedEdges}), or the configured header's value; a request without that
 * header is keyed on its client address. Immutable; the limiters in it are thread-safe.
 */
public final class RateLimits {
    /** The answer to a limited request: 429 with {@code Retry-After} and a JSON body. */
    public static final RequestValidator.Rejection REJECTION =
            new RequestValidator.Rejection(HttpResponseStatus.TOO_MANY_REQUESTS, "rate limit exceeded");

    /** Stands for a route's {@code rate-limit: off}; never asked for a token. */
    private static final KeyedLimiter UNLIMITED = new RateLimiter(RateLimitConfig.OFF);

    private final KeyedLimiter fallback;
    /** By route name (its {@code name}, else {@code routes[i]}); empty when no route has a limit of its own. */
    private final Map<String, KeyedLimiter> byRoute;

    private RateLimits(KeyedLimiter fallback, Map<String, KeyedLimiter> byRoute) {
        this.fallback = fallback;
        this.byRoute = byRoute;
    }

    /**
     * The limits of {@code config}, or {@code null} when it has none at all.
     *
     * @param store the fleet's buckets, for the limits with {@code store: redis}; {@code null} makes
     *     them local
     */
    public static RateLimits from(BalancerConfig config, RedisBuckets store) {
        Map<String, KeyedLimiter> byRoute = new HashMap<>();
        for (RouteConfig r : config.routes()) {
            if (r.rateLimit() != null) {
                byRoute.put(r.name(), r.rateLimit().off() ? UNLIMITED : limiter(r.rateLimit(), "route:" + r.name(),
                        store));
            }
        }
        if (config.rateLimit() == null && byRoute.isEmpty()) {
            return null;
        }
        return new RateLimits(config.rateLimit() == null ? null : limiter(config.rateLimit(), "top", store),
                Map.copyOf(byRoute));
    }

    private static KeyedLimiter limiter(RateLimitConfig config, String scope, RedisBuckets store) {
        return config.store() == RateLimitConfig.Store.REDIS && store != null
                ? new FleetRateLimiter(config, scope, store) : new RateLimiter(config.local());
    }

    /**
     * These limits, with the tables of {@code old} wherever the same scope (top level, or a route of
     * the same name) keeps the same limit: a reload is no way around a limit.
     */
    public RateLimits keeping(RateLimits old) {
        if (old == null) {
            return this;
        }
        KeyedLimiter top = same(fallback, old.fallback);
        Map<String, KeyedLimiter> routes = new HashMap<>();
        byRoute.forEach((name, limiter) -> routes.put(name, same(limiter, old.byRoute.get(name))));
        return new RateLimits(top, Map.copyOf(routes));
    }

    private static KeyedLimiter same(KeyedLimiter next, KeyedLimiter old) {
        return next != null && old != null && next != UNLIMITED && next.config().equals(old.config()) ? old : next;
    }

    /** The top-level limiter, or {@code null}. */
    public KeyedLimiter fallback() {
        return fallback;
    }

    /** The limiter of the route named {@code route}: its own, else the top-level one, or {@code null}. */
    KeyedLimiter forRoute(String route) {
        if (byRoute.isEmpty()) {
            return fallback;
        }
        KeyedLimiter own = byRoute.get(route);
        return own == null ? fallback : own == UNLIMITED ? null : own;
    }

    /** Keys held now, over every table. */
    public int keys() {
        int n = fallback == null ? 0 : fallback.keys();
        for (KeyedLimiter l : byRoute.values()) {
            n += l == UNLIMITED ? 0 : l.keys();
        }
        return n;
    }

    /**
     * Takes a token for the request from {@code limits}' table for {@code route}.
     *
     * @param limits the limits in force, or {@code null} for none
     * @param clock the balancer's clock, read only when a limit applies to the request
     * @return 0 when the request may go on, else the seconds for {@code Retry-After}
     */
    public static long check(RateLimits limits, String route, HttpRequest request, String client, NanoClock clock) {
        KeyedLimiter limiter = limits == null ? null : limits.forRoute(route);
        if (limiter == null) {
            return 0;
        }
        String header = limiter.config().header();
        String key = client;
        if (header != null) {
            String value = request.headers().get(header);
            if (value != null && !value.isEmpty()) {
                key = value;
            }
        }
        return limiter.acquire(key, clock.nanoTime());
    }
}
