package io.fulcrum.balancer.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The config's duration syntax, as read by every Fulcrum file; see {@link io.fulcrum.config.Durations}.
 * Stateless and thread-safe.
 */
final class Durations {
    static final String EXPECTED = io.fulcrum.config.Durations.EXPECTED;

    private Durations() {
    }

    /** The duration {@code text} denotes, or empty when it is not one. */
    static Optional<Duration> parse(String text) {
        return io.fulcrum.config.Durations.parse(text);
    }

    /** Formats a duration back into config syntax, using the largest unit that is exact. */
    static String format(Duration d) {
        return io.fulcrum.config.Durations.format(d);
    }
}
