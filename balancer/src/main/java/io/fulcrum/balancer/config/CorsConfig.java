package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A route's CORS rules (the Fetch standard's CORS protocol): which origins may read its responses
 * from a browser, with which methods and headers, whether with credentials, and how long a browser
 * may keep a preflight's answer. Immutable.
 *
 * @param allowOrigins exact origins ({@code https://app.example.com}), patterns with {@code *}
 *     standing for any run of characters other than {@code /} ({@code https://*.example.com}),
 *     or the one entry {@code *} for every origin
 * @param allowMethods methods a preflight may ask for besides GET, HEAD and POST, which are
 *     always allowed
 * @param allowHeaders request headers a preflight may ask for; {@code *} for any
 * @param exposeHeaders response headers that scripts may read besides the CORS-safelisted ones
 * @param allowCredentials whether requests with cookies or HTTP authentication may read responses
 * @param maxAge how long a browser may keep a preflight's answer, or {@code null} for its default
 */
public record CorsConfig(List<String> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
        List<String> exposeHeaders, boolean allowCredentials, Duration maxAge) {
    public CorsConfig {
        allowOrigins = List.copyOf(requireNonNull(allowOrigins, "allowOrigins"));
        allowMethods = List.copyOf(requireNonNull(allowMethods, "allowMethods"));
        allowHeaders = List.copyOf(requireNonNull(allowHeaders, "allowHeaders"));
        exposeHeaders = List.copyOf(requireNonNull(exposeHeaders, "exposeHeaders"));
        if (allowOrigins.isEmpty()) {
            throw new IllegalArgumentException("allowOrigins: empty (expected: at least one origin)");
        }
        if (maxAge != null) {
            DurationBounds.notNegative("maxAge", maxAge);
        }
    }

    /** Whether every origin is allowed ({@code allow-origins: ["*"]}). */
    public boolean anyOrigin() {
        return allowOrigins.contains("*");
    }
}
