package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
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
     * Proxy to several pools, each taking a weighted share of the requests (a canary): a new
     * version's pool takes a few percent while the old one takes the rest.
     *
     * @param shares the pools and their weights, in file order; the weights add up to more than 0
     * @param stickyBy the request key that keeps a client on one pool (the key's hash picks the
     *     share, so a client keeps its pool while the weights stay), or {@code null}: each request
     *     draws its share at random
     */
    record Split(List<Share> shares, AffinityConfig.Hash stickyBy) implements RouteAction {
        public Split {
            shares = List.copyOf(shares);
            if (shares.isEmpty() || shares.stream().mapToLong(Share::weight).sum() <= 0) {
                throw new IllegalArgumentException("split: at least one share with a weight above 0");
            }
        }

        /** The sum of the weights. */
        public int totalWeight() {
            return shares.stream().mapToInt(Share::weight).sum();
        }
    }

    /** One pool of a {@link Split} and its relative share ({@code weight} of the sum of weights). */
    record Share(String pool, int weight) {
        public static final int MAX_WEIGHT = 1_000_000;

        public Share {
            requireNonNull(pool, "pool");
            if (weight < 0 || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException("weight: " + weight + " (expected: 0-" + MAX_WEIGHT + ")");
            }
        }
    }

    /** The pools a route sends to: its one pool, the pools of its split, or none. */
    static List<String> pools(RouteAction action) {
        if (action instanceof ToPool to) {
            return List.of(to.pool());
        }
        if (action instanceof Split split) {
            return split.shares().stream().map(Share::pool).toList();
        }
        return List.of();
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
