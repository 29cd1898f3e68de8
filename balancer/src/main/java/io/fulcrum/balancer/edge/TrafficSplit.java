package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.config.AffinityConfig;
import io.fulcrum.balancer.route.Route;
import io.netty.handler.codec.http.HttpRequest;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Which pool of a route's split takes a request: the one whose share the hash of the client's key
 * falls in ({@code split-by}), so a client stays on one version of a canary, else a random draw.
 * A request without the key is drawn at random too. Stateless; allocation-free but for a cookie
 * key, which is parsed.
 */
public final class TrafficSplit {
    private TrafficSplit() {
    }

    /**
     * The pool of {@code route}, which {@link Route#splits() splits}, for {@code request}.
     *
     * @param clientAddress the client's address as text, hashed for {@code split-by: client-address}
     */
    public static <P> P pool(Route<P> route, HttpRequest request, String clientAddress) {
        AffinityConfig.Hash by = route.splitBy();
        long point = by == null ? AffinityRules.NO_KEY : AffinityRules.keyHash(by, request, clientAddress);
        if (point == AffinityRules.NO_KEY) {
            point = ThreadLocalRandom.current().nextLong();
        }
        return route.splitPool(point);
    }
}
