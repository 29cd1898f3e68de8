package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * A route's header condition. Immutable.
 *
 * @param name the header name (compared case-insensitively)
 * @param value the exact value one of its fields must have, or {@code null} when presence is enough
 */
public record HeaderMatchConfig(String name, String value) {
    public HeaderMatchConfig {
        requireNonNull(name, "name");
    }
}
