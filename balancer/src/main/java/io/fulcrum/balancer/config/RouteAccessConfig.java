package io.fulcrum.balancer.config;

/**
 * Who may use a route, and how browsers of other origins may: the route's own client networks,
 * basic or forward authentication, and CORS. Each part is {@code null} when the route has none
 * (for {@code clientNetworks}: when the top level's apply). Immutable.
 *
 * @param clientNetworks the route's own allow and deny lists, in place of the top level's
 * @param basicAuth user names and bcrypt hashes that the route asks for
 * @param forwardAuth the auth service that the route asks about each request
 * @param cors the route's cross-origin rules; the balancer answers its preflights itself
 */
public record RouteAccessConfig(ClientNetworksConfig clientNetworks, BasicAuthConfig basicAuth,
        ForwardAuthConfig forwardAuth, CorsConfig cors) {
    /** A route without any of these. */
    public static final RouteAccessConfig NONE = new RouteAccessConfig(null, null, null, null);

    /** Whether a request must wait for an answer (a password check or the auth service) before its backend. */
    public boolean authenticates() {
        return basicAuth != null || forwardAuth != null;
    }
}
