package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A route's hedged requests: when the first try of an idempotent request has no response head
 * within a delay, a second try goes to another backend of the pool and the first head wins.
 * Immutable.
 *
 * @param delay the fixed delay, or {@code null} for the pool's observed p95 of the time to a
 *     response head of hedging routes' requests
 * @param minDelay the floor of the observed p95
 * @param methods the methods hedged (each idempotent by the route's word)
 */
public record HedgeConfig(Duration delay, Duration minDelay, List<String> methods) {
    public static final Duration DEFAULT_MIN_DELAY = Duration.ofMillis(10);
    public static final List<String> DEFAULT_METHODS = List.of("GET", "HEAD");
    /** The word for the observed-p95 delay in place of a duration. */
    public static final String P95 = "p95";

    public HedgeConfig {
        requireNonNull(minDelay, "minDelay");
        methods = List.copyOf(methods);
        if (delay != null && (delay.isNegative() || delay.isZero())) {
            throw new IllegalArgumentException("delay: " + delay + " (expected: > 0)");
        }
        if (minDelay.isNegative() || minDelay.isZero()) {
            throw new IllegalArgumentException("minDelay: " + minDelay + " (expected: > 0)");
        }
        if (methods.isEmpty()) {
            throw new IllegalArgumentException("methods: empty");
        }
    }

    /** Whether the delay is the pool's observed p95 rather than a fixed one. */
    public boolean observed() {
        return delay == null;
    }
}
