package io.fulcrum.balancer.config;

import java.time.Duration;

/**
 * A route's own timeouts and response size limit, each in place of its pool's (and the top
 * level's) for the requests the route matches. Immutable.
 *
 * @param response the client's whole wait for a response head, or {@code null} for the pool's
 * @param queue how long a request waits for a backend below max-in-flight, or {@code null} for
 *     the pool's
 * @param maxResponseBytes response bodies past this are cut, 0 for no limit, or {@link #INHERIT}
 *     for the top level's {@code limits.max-response-bytes}
 */
public record RouteLimitsConfig(Duration response, Duration queue, long maxResponseBytes) {
    /** {@link #maxResponseBytes} of a route that keeps the top level's. */
    public static final long INHERIT = -1;
    /** A route with nothing of its own. */
    public static final RouteLimitsConfig NONE = new RouteLimitsConfig(null, null, INHERIT);

    public RouteLimitsConfig {
        if (response != null) {
            DurationBounds.positive("response", response);
        }
        if (queue != null) {
            DurationBounds.notNegative("queue", queue);
        }
        if (maxResponseBytes < INHERIT) {
            throw new IllegalArgumentException("maxResponseBytes: " + maxResponseBytes + " (expected: >= 0)");
        }
    }
}
