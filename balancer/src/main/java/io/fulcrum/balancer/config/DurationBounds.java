package io.fulcrum.balancer.config;

import java.time.Duration;

/**
 * The two bounds the config records put on a duration, worded the same in each record's compact
 * constructor ({@code "interval: PT0S (expected: > 0)"}). The loader reports values out of range
 * with their YAML path first; these only guard the records' invariants. Stateless.
 */
final class DurationBounds {
    private DurationBounds() {
    }

    /** Throws unless {@code d} is longer than zero. */
    static void positive(String name, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
    }

    /** Throws when {@code d} is negative. */
    static void notNegative(String name, Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: >= 0)");
        }
    }
}
