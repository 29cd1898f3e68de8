package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * A route's mirroring: a sampled share of its requests is copied to a shadow pool, fire and
 * forget; the shadow's answers are read and dropped. Immutable.
 *
 * @param pool the shadow pool
 * @param percent the share of the route's requests copied, 0 to 100
 * @param maxBodyBytes a request whose body is longer is not copied (and is counted)
 */
public record MirrorConfig(String pool, double percent, long maxBodyBytes) {
    public static final double DEFAULT_PERCENT = 100;
    public static final long DEFAULT_MAX_BODY_BYTES = 65_536;

    public MirrorConfig {
        requireNonNull(pool, "pool");
        if (!(percent >= 0 && percent <= 100)) {
            throw new IllegalArgumentException("percent: " + percent + " (expected: 0-100)");
        }
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes: " + maxBodyBytes + " (expected: >= 0)");
        }
    }
}
