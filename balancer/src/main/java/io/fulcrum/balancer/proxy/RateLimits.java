package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.ratelimit.RateLimiter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Applies a {@link RateLimiter} to a request, before any backend is chosen. The key is the client
 * address as found ({@link TrustedEdges}), or the configured header's value; a request without
 * that header is keyed on its client address. Stateless.
 */
final class RateLimits {
    /** The answer to a limited request: 429 with {@code Retry-After} and a JSON body. */
    static final RequestValidator.Rejection REJECTION =
            new RequestValidator.Rejection(HttpResponseStatus.TOO_MANY_REQUESTS, "rate limit exceeded");

    private RateLimits() {
    }

    /**
     * Takes a token for the request.
     *
     * @param limiter the limit in force, or {@code null} for none
     * @return 0 when the request may go on, else the seconds for {@code Retry-After} (counted as
     *     limited in {@code proxy})
     */
    static long check(RateLimiter limiter, HttpRequest request, String client, ProxyContext proxy) {
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
        long retryAfter = limiter.acquire(key, proxy.clock().nanoTime());
        if (retryAfter > 0) {
            proxy.rateLimitedRequest();
        }
        return retryAfter;
    }
}
