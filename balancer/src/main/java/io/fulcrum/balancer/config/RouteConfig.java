package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * One entry of {@code routes}: what requests it matches and what is done with them. Routes are
 * tried in file order and the first match wins. Immutable.
 *
 * @param name how logs, metrics and the rate limit name the route: its {@code name}, else {@code routes[i]}
 * @param match the conditions, all of which must hold
 * @param action where a match goes: a pool, a redirect or a fixed response
 * @param requestHeaders edits of the request sent to the pool's backend
 * @param responseHeaders edits of the response sent to the client
 * @param rewrite a change of the path prefix before the request goes to the pool, or {@code null}
 * @param rateLimit the route's own rate limit, in place of the top-level one for the requests it
 *     matches; {@link RateLimitConfig#OFF} for none at all; {@code null} when the top-level one
 *     applies
 * @param compression the compression of the responses, or {@code null} for none
 * @param requireClientCertificate only requests over a connection with a verified client
 *     certificate are let through; the others get 403
 * @param traffic what the route does with its traffic besides sending it to its pools (mirroring)
 * @param access the route's client networks, authentication and CORS ({@link RouteAccessConfig#NONE}: none)
 * @param limits the route's own timeouts and response size limit ({@link RouteLimitsConfig#NONE}: its pool's)
 */
public record RouteConfig(String name, RouteMatchConfig match, RouteAction action, HeaderEditsConfig requestHeaders,
        HeaderEditsConfig responseHeaders, RewriteConfig rewrite, RateLimitConfig rateLimit,
        CompressionConfig compression, boolean requireClientCertificate, RouteTrafficConfig traffic,
        RouteAccessConfig access, RouteLimitsConfig limits) {

    /** A route without access rules or limits of its own. */
    public RouteConfig(String name, RouteMatchConfig match, RouteAction action, HeaderEditsConfig requestHeaders,
            HeaderEditsConfig responseHeaders, RewriteConfig rewrite, RateLimitConfig rateLimit,
            CompressionConfig compression, boolean requireClientCertificate, RouteTrafficConfig traffic) {
        this(name, match, action, requestHeaders, responseHeaders, rewrite, rateLimit, compression,
                requireClientCertificate, traffic, RouteAccessConfig.NONE, RouteLimitsConfig.NONE);
    }

    /** A route that asks for no client certificate. */
    public RouteConfig(String name, RouteMatchConfig match, RouteAction action, HeaderEditsConfig requestHeaders,
            HeaderEditsConfig responseHeaders, RewriteConfig rewrite, RateLimitConfig rateLimit,
            CompressionConfig compression) {
        this(name, match, action, requestHeaders, responseHeaders, rewrite, rateLimit, compression, false);
    }

    /** A route without mirroring. */
    public RouteConfig(String name, RouteMatchConfig match, RouteAction action, HeaderEditsConfig requestHeaders,
            HeaderEditsConfig responseHeaders, RewriteConfig rewrite, RateLimitConfig rateLimit,
            CompressionConfig compression, boolean requireClientCertificate) {
        this(name, match, action, requestHeaders, responseHeaders, rewrite, rateLimit, compression,
                requireClientCertificate, RouteTrafficConfig.NONE);
    }

    /** A route that compresses nothing. */
    public RouteConfig(String name, RouteMatchConfig match, RouteAction action, HeaderEditsConfig requestHeaders,
            HeaderEditsConfig responseHeaders, RewriteConfig rewrite, RateLimitConfig rateLimit) {
        this(name, match, action, requestHeaders, responseHeaders, rewrite, rateLimit, null);
    }

    /** A route without a rate limit of its own. */
    public RouteConfig(String name, RouteMatchConfig match, RouteAction action, HeaderEditsConfig requestHeaders,
            HeaderEditsConfig responseHeaders, RewriteConfig rewrite) {
        this(name, match, action, requestHeaders, responseHeaders, rewrite, null, null, false, RouteTrafficConfig.NONE);
    }

    public RouteConfig {
        requireNonNull(name, "name");
        requireNonNull(match, "match");
        requireNonNull(action, "action");
        requireNonNull(requestHeaders, "requestHeaders");
        requireNonNull(responseHeaders, "responseHeaders");
        requireNonNull(traffic, "traffic");
        requireNonNull(access, "access");
        requireNonNull(limits, "limits");
        if (access.authenticates() && RouteAction.pools(action).isEmpty()) {
            throw new IllegalArgumentException("basic-auth, forward-auth: only a route to a pool authenticates (" + name
                    + ")");
        }
        if (traffic.mirror() != null && RouteAction.pools(action).isEmpty()) {
            throw new IllegalArgumentException("mirror: only a route to a pool mirrors (" + name + ")");
        }
        if (rewrite != null && RouteAction.pools(action).isEmpty()) {
            throw new IllegalArgumentException("rewrite: only a route to a pool rewrites (" + name + ")");
        }
        if (rewrite != null && (match.path() == null || match.path().kind() != PathMatchConfig.Kind.PREFIX)) {
            throw new IllegalArgumentException("rewrite: needs a path prefix match (" + name + ")");
        }
        if (compression != null && RouteAction.pools(action).isEmpty()) {
            throw new IllegalArgumentException("compression: only a route to a pool compresses (" + name + ")");
        }
    }
}
