package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.Set;

/** What a route does with the requests it matches: exactly one of these. Immutable. */
public sealed interface RouteAction {
    /** Statuses a redirect may have (RFC 9110 section 15.4). */
    Set<Integer> REDIRECT_STATUSES = Set.of(301, 302, 307, 308);

    /** Proxy to the backends of the named pool. */
    record ToPool(String pool) implements RouteAction {
        public ToPool {
            requireNonNull(pool, "pool");
        }
    }

    /**
     * Answer with a redirect whose {@code Location} is {@code to} with {@code {scheme}},
     * {@code {host}}, {@code {path}} and {@code {query}} filled in from the request.
     */
    record Redirect(int status, String to) implements RouteAction {
        public Redirect {
            requireNonNull(to, "to");
            if (!REDIRECT_STATUSES.contains(status)) {
                throw new IllegalArgumentException("status: " + status + " (expected: 301, 302, 307 or 308)");
            }
        }
    }

    /** Answer with a fixed response (a maintenance page, a robots.txt). */
    record Respond(int status, String body, String contentType) implements RouteAction {
        public static final String DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8";

        public Respond {
            requireNonNull(body, "body");
            requireNonNull(contentType, "contentType");
            if (status < 200 || status > 599) {
                throw new IllegalArgumentException("status: " + status + " (expected: 200-599)");
            }
        }
    }
}
