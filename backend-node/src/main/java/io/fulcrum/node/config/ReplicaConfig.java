package io.fulcrum.node.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The node's own PostgreSQL streaming replica (the copy in its region) and how fresh it must be.
 *
 * <p>Reads go to the replica while it has replayed what the client has already seen (the consistency
 * token) and lags the primary by at most {@code maxLag}; otherwise to the primary. A read whose token
 * the replica has not replayed yet waits up to {@code catchUpWait} for it before going to the primary.
 * Past {@code maxLag} the node also reports itself not ready, so the balancer routes around it.
 * {@code checkInterval} is how often the primary's and the replica's WAL positions are sampled.
 *
 * <p>{@code user} and {@code password} default to the primary's. Immutable and thread-safe;
 * {@link #toString()} never shows the password.
 */
public record ReplicaConfig(String url, String user, String password, Duration maxLag, Duration catchUpWait,
        Duration checkInterval) {

    /** Default {@code max-lag}. */
    public static final Duration DEFAULT_MAX_LAG = Duration.ofSeconds(5);
    /** Default {@code read-your-writes-wait}. */
    public static final Duration DEFAULT_CATCH_UP_WAIT = Duration.ofMillis(250);
    /** Default {@code check-interval}. */
    public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofMillis(250);

    /** Validates the settings; messages start with the YAML key. */
    public ReplicaConfig {
        requireNonNull(url, "url");
        requireNonNull(maxLag, "maxLag");
        requireNonNull(catchUpWait, "catchUpWait");
        requireNonNull(checkInterval, "checkInterval");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("url: " + url + " (expected: jdbc:postgresql://...)");
        }
        if (checkInterval.toMillis() < 10 || checkInterval.toSeconds() > 60) {
            throw new IllegalArgumentException("check-interval: " + checkInterval + " (expected: 10ms-60s)");
        }
        if (maxLag.compareTo(checkInterval) < 0) {
            throw new IllegalArgumentException("max-lag: " + maxLag + " (expected: at least check-interval, "
                    + checkInterval + ")");
        }
        if (catchUpWait.isNegative() || catchUpWait.toSeconds() > 10) {
            throw new IllegalArgumentException("read-your-writes-wait: " + catchUpWait + " (expected: 0-10s)");
        }
    }

    /** A replica at {@code url} with the default freshness settings. */
    public static ReplicaConfig of(String url, String user, String password) {
        return new ReplicaConfig(url, user, password, DEFAULT_MAX_LAG, DEFAULT_CATCH_UP_WAIT, DEFAULT_CHECK_INTERVAL);
    }

    /** Returns a copy with other freshness settings. */
    public ReplicaConfig withFreshness(Duration newMaxLag, Duration newCatchUpWait, Duration newCheckInterval) {
        return new ReplicaConfig(url, user, password, newMaxLag, newCatchUpWait, newCheckInterval);
    }

    @Override
    public String toString() {
        return "ReplicaConfig[url=" + url + ", user=" + user + ", password="
                + (password == null ? "(none)" : "(hidden)") + ", maxLag=" + maxLag + ", catchUpWait="
                + catchUpWait + ", checkInterval=" + checkInterval + "]";
    }
}
