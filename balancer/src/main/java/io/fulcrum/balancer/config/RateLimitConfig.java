package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * A token bucket per key: each key may send {@code burst} requests at once and then
 * {@code perSecond} a second on average; past that it gets 429 with {@code Retry-After}. With
 * {@link Store#LOCAL} the bucket is this process's own, so N balancers let a key through N times the
 * rate; with {@link Store#REDIS} it lives in the fleet's Redis ({@link RedisConfig}) and every
 * balancer that shares it takes from the same bucket.
 *
 * @param rate the rate as written ({@code 100/s}, {@code 600/m}, {@code 1000/h}), for messages
 * @param perSecond the same rate in tokens per second, > 0
 * @param burst the bucket's size, >= 1
 * @param header the request header whose value is the key, or {@code null} to key on the client
 *     address; a request without the header is keyed on its client address
 * @param maxKeys how many keys are tracked at once (the table never grows past this)
 * @param store where the buckets live
 */
public record RateLimitConfig(String rate, double perSecond, long burst, String header, int maxKeys, Store store) {
    public static final int DEFAULT_MAX_KEYS = 100_000;
    /** A route's {@code rate-limit: off}: the route's requests are not limited, whatever the top level says. */
    public static final RateLimitConfig OFF = new RateLimitConfig("off", Double.POSITIVE_INFINITY, 1, null, 1);

    /** Where a limit's buckets live. */
    public enum Store {
        /** In this process: each balancer counts only its own requests. */
        LOCAL,
        /** In the fleet's Redis: every balancer that shares it counts against the same bucket. */
        REDIS;

        /** The name in YAML. */
        public String yamlName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A limit whose buckets are this process's own. */
    public RateLimitConfig(String rate, double perSecond, long burst, String header, int maxKeys) {
        this(rate, perSecond, burst, header, maxKeys, Store.LOCAL);
    }

    /** Whether this is {@link #OFF}. */
    public boolean off() {
        return equals(OFF);
    }

    public RateLimitConfig {
        requireNonNull(rate, "rate");
        requireNonNull(store, "store");
        if (!(perSecond > 0) || burst < 1 || maxKeys < 1) {
            throw new IllegalArgumentException("rate-limit: rate " + perSecond + ", burst " + burst + ", max-keys " + maxKeys);
        }
    }

    /** {@code client-address} or {@code header:NAME}, as written in the config. */
    public String key() {
        return header == null ? "client-address" : "header:" + header;
    }

    /** This limit with its buckets in this process (what a balancer falls back to without its Redis). */
    public RateLimitConfig local() {
        return store == Store.LOCAL ? this : new RateLimitConfig(rate, perSecond, burst, header, maxKeys);
    }
}
