package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * A route's path rewrite: the route's {@code match.path.prefix} is replaced by
 * {@code replacement} in the request target sent to the backend ({@code strip-prefix: true} is a
 * replacement by nothing). A path left empty becomes {@code /}. The query is kept. Immutable.
 */
public record RewriteConfig(String replacement) {
    public RewriteConfig {
        requireNonNull(replacement, "replacement");
    }
}
