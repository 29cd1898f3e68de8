package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * A route's path condition, on the path of the request target (the query is not part of it).
 * Immutable.
 *
 * @param kind how {@code value} is compared
 * @param value the prefix, the exact path, or a regular expression that must match the whole path
 */
public record PathMatchConfig(Kind kind, String value) {
    public enum Kind {
        /** The path starts with the value, at a segment boundary when the value does not end in {@code /}. */
        PREFIX,
        /** The path is the value. */
        EXACT,
        /** The value ({@link java.util.regex.Pattern} syntax) matches the whole path. */
        REGEX
    }

    public PathMatchConfig {
        requireNonNull(kind, "kind");
        requireNonNull(value, "value");
    }
}
