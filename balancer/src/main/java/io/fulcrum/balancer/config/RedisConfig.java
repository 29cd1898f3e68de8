package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The fleet's Redis: where the rate limits with {@code store: redis} keep their buckets, so that
 * every balancer sharing it enforces one limit.
 *
 * @param url {@code redis://[[user:]password@]host[:port][/database]}, or {@code rediss://} for TLS
 * @param timeout how long a reply may take before the command counts as failed (and the store as
 *     unreachable until it answers again); no request ever waits on it
 * @param failOpen while Redis is unreachable: {@code true} applies each limit locally (every
 *     balancer lets the whole limit through), {@code false} refuses the requests such a limit covers
 * @param keyPrefix put before every bucket's key, so that several fleets may share one Redis
 */
public record RedisConfig(String url, Duration timeout, boolean failOpen, String keyPrefix) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(250);
    public static final String DEFAULT_KEY_PREFIX = "fulcrum:rl:";

    public RedisConfig {
        requireNonNull(url, "url");
        requireNonNull(keyPrefix, "keyPrefix");
        if (requireNonNull(timeout, "timeout").isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("redis.timeout: " + timeout);
        }
    }

    /** The URL with any password replaced by {@code ***}, for logs and the status page. */
    public String safeUrl() {
        int at = url.lastIndexOf('@');
        int scheme = url.indexOf("://");
        if (at < 0 || scheme < 0 || at < scheme) {
            return url;
        }
        return url.substring(0, scheme + 3) + "***" + url.substring(at);
    }
}
