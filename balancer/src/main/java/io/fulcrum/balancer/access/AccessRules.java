package io.fulcrum.balancer.access;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.BasicAuthConfig;
import io.fulcrum.balancer.config.ClientNetworksConfig;
import io.fulcrum.balancer.config.RouteAccessConfig;
import io.fulcrum.balancer.config.RouteConfig;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * The access rules of one config: the top-level {@code client-networks}, which every request
 * meets, and each route's own {@link RouteAccess} (its networks in place of the top level's,
 * authentication, CORS). Immutable and thread-safe. A reload builds new ones; a route whose basic
 * authentication is unchanged (realm, users file and its hashes) keeps the one it had, and with it
 * the passwords it remembers, so a reload does not send every user's next request through a
 * bcrypt check (at most 64 run at once; past that a request gets 503). A changed users file
 * starts with no password remembered.
 */
public final class AccessRules {
    private final RouteAccess everyRoute;
    /** By route name; only routes with rules of their own. */
    private final Map<String, RouteAccess> byRoute;

    private AccessRules(RouteAccess everyRoute, Map<String, RouteAccess> byRoute) {
        this.everyRoute = everyRoute;
        this.byRoute = byRoute;
    }

    /**
     * Password checks (CPU, bounded by {@code BasicAuth}) and the auth services' address lookups
     * (blocking): threads of their own, never an event loop, nor the JDK's common pool that other
     * code in the process shares. Daemon threads, made when first needed.
     */
    private static final Executor OFF_LOOP = Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()), new DefaultThreadFactory("fulcrum-access", true));

    /** The rules of {@code config}, or {@code null} when it has none. */
    public static AccessRules from(BalancerConfig config) {
        return from(config, null, OFF_LOOP);
    }

    /**
     * The rules of {@code config} after a reload from the rules in force, {@code previous} (or
     * {@code null}): what a route keeps from them is said in the class comment.
     */
    public static AccessRules from(BalancerConfig config, AccessRules previous) {
        return from(config, previous, OFF_LOOP);
    }

    static AccessRules from(BalancerConfig config, AccessRules previous, Executor offLoop) {
        ClientNetworksConfig top = config.clientNetworks();
        Map<String, RouteAccess> byRoute = new HashMap<>();
        for (RouteConfig r : config.routes()) {
            RouteAccessConfig a = r.access();
            if (a.equals(RouteAccessConfig.NONE)) {
                continue;
            }
            ClientNetworksConfig networks = a.clientNetworks() != null ? a.clientNetworks() : top;
            byRoute.put(r.name(), new RouteAccess(networks == null ? null : new ClientNetworks(networks),
                    a.basicAuth() == null ? null : basicAuth(a.basicAuth(), previous, r.name(), offLoop),
                    a.forwardAuth() == null ? null : new ForwardAuth(a.forwardAuth(), offLoop),
                    a.cors() == null ? null : new Cors(a.cors())));
        }
        if (top == null && byRoute.isEmpty()) {
            return null;
        }
        return new AccessRules(top == null ? null : new RouteAccess(new ClientNetworks(top), null, null, null),
                Map.copyOf(byRoute));
    }

    /** {@code previous}'s basic authentication of {@code route} when its config is the same, else a new one. */
    private static BasicAuth basicAuth(BasicAuthConfig config, AccessRules previous, String route, Executor offLoop) {
        RouteAccess before = previous == null ? null : previous.byRoute.get(route);
        BasicAuth kept = before == null ? null : before.basicAuth();
        return kept != null && kept.config().equals(config) ? kept : new BasicAuth(config, offLoop);
    }

    /** What the route named {@code route} asks of its requests, or {@code null} for nothing. */
    public RouteAccess forRoute(String route) {
        RouteAccess own = byRoute.get(route);
        return own != null ? own : everyRoute;
    }
}
