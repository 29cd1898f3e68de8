package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.config.RateLimitConfig;

/**
 * A rate limit's buckets, one per key: this process's own ({@link RateLimiter}) or the fleet's
 * ({@link FleetRateLimiter}). Thread-safe; {@link #acquire} never blocks.
 */
public interface KeyedLimiter {
    RateLimitConfig config();

    /**
     * Takes a token from {@code key}'s bucket.
     *
     * @param nowNanos a monotonic clock reading ({@link System#nanoTime()})
     * @return 0 when the request may go, else the whole seconds until a token is back (at least 1),
     *     for {@code Retry-After}
     */
    long acquire(String key, long nowNanos);

    /** Keys tracked in this process now. */
    int keys();
}
