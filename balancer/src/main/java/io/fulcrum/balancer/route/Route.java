package io.fulcrum.balancer.route;

import io.fulcrum.balancer.config.AffinityConfig;
import io.fulcrum.balancer.config.CompressionConfig;
import io.fulcrum.balancer.config.HeaderEditsConfig;
import io.fulcrum.balancer.config.HedgeConfig;
import io.fulcrum.balancer.config.MirrorConfig;
import io.fulcrum.balancer.config.RouteAction;
import io.fulcrum.balancer.config.RouteConfig;
import io.fulcrum.balancer.config.RouteLimitsConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Map;

/**
 * One compiled route: what it does with a request it matched. Built once per config snapshot;
 * immutable and thread-safe.
 *
 * @param <P> what a pool is to the caller (the proxy's live pool)
 */
public final class Route<P> {
    /** What the route does. */
    public enum Kind {
        /** Proxy to {@link #pool()}, or to one pool of its {@link #splits() split}. */
        POOL,
        /** Answer with a redirect ({@link #location}). */
        REDIRECT,
        /** Answer with a fixed response ({@link #status()}, {@link #body()}, {@link #contentType()}). */
        RESPOND,
        /** No route matched and there is no default pool: the balancer's own 404. */
        NO_ROUTE
    }

    private final String name;
    private final Kind kind;
    private final P pool;
    private final int status;
    private final String body;
    private final AsciiString contentType;
    private final RedirectTemplate redirect;
    private final HeaderEdits requestEdits;
    private final HeaderEdits responseEdits;
    /** The path prefix a rewrite replaces, or {@code null} when the path goes as it came. */
    private final String rewriteFrom;
    private final String rewriteTo;
    /** The pools of a split, or {@code null}: {@link #pool} takes every request. */
    private final Object[] splitPools;
    /** The end of each pool's range of {@code [0, splitTotal)}: the running sum of the weights. */
    private final int[] splitEnds;
    private final int splitTotal;
    private final AffinityConfig.Hash splitBy;
    /** The compression of the route's responses, or {@code null} for none. */
    private final CompressionConfig compression;
    private final boolean requiresClientCertificate;
    /** The route's mirroring, or {@code null}; {@link #mirrorPool} is its shadow pool. */
    private final MirrorConfig mirror;
    private final P mirrorPool;
    private final RouteLimitsConfig limits;
    /** The route's hedged requests, or {@code null}. */
    private final HedgeConfig hedge;

    /**
     * @param pools the pool of each pool name the route's action names, in its order (one for a
     *     route to a pool, each share's for a split, none else)
     * @param mirrorPool the shadow pool of the route's mirroring, or {@code null}
     */
    Route(RouteConfig config, List<P> pools, P mirrorPool) {
        this.name = config.name();
        this.mirror = mirrorPool == null ? null : config.traffic().mirror();
        this.mirrorPool = mirrorPool;
        this.hedge = config.traffic().hedge();
        this.pool = pools.isEmpty() ? null : pools.get(0);
        RouteAction action = config.action();
        if (action instanceof RouteAction.Split split) {
            splitPools = pools.toArray();
            splitEnds = new int[pools.size()];
            int sum = 0;
            for (int i = 0; i < splitEnds.length; i++) {
                sum += split.shares().get(i).weight();
                splitEnds[i] = sum;
            }
            splitTotal = sum;
            splitBy = split.stickyBy();
        } else {
            splitPools = null;
            splitEnds = null;
            splitTotal = 0;
            splitBy = null;
        }
        if (action instanceof RouteAction.ToPool || action instanceof RouteAction.Split) {
            kind = Kind.POOL;
            status = 0;
            body = null;
            contentType = null;
            redirect = null;
        } else if (action instanceof RouteAction.Redirect r) {
            kind = Kind.REDIRECT;
            status = r.status();
            body = null;
            contentType = null;
            redirect = new RedirectTemplate(r.to());
        } else {
            RouteAction.Respond r = (RouteAction.Respond) action;
            kind = Kind.RESPOND;
            status = r.status();
            body = r.body();
            contentType = AsciiString.cached(r.contentType());
            redirect = null;
        }
        compression = config.compression();
        requiresClientCertificate = config.requireClientCertificate();
        requestEdits = new HeaderEdits(config.requestHeaders());
        responseEdits = new HeaderEdits(config.responseHeaders());
        if (config.rewrite() != null) {
            rewriteFrom = config.match().path().value();
            rewriteTo = config.rewrite().replacement();
        } else {
            rewriteFrom = null;
            rewriteTo = null;
        }
        limits = config.limits();
    }

    /** A route of the router's own: everything to {@code pool}, or a fixed response. */
    Route(String name, Kind kind, P pool, int status, String body) {
        this.name = name;
        this.kind = kind;
        this.pool = pool;
        this.status = status;
        this.body = body;
        this.contentType = body == null ? null : AsciiString.cached(RouteAction.Respond.DEFAULT_CONTENT_TYPE);
        this.redirect = null;
        this.requestEdits = HeaderEdits.NONE;
        this.responseEdits = HeaderEdits.NONE;
        this.rewriteFrom = null;
        this.rewriteTo = null;
        this.splitPools = null;
        this.splitEnds = null;
        this.splitTotal = 0;
        this.splitBy = null;
        this.compression = null;
        this.requiresClientCertificate = false;
        this.mirror = null;
        this.mirrorPool = null;
        this.limits = RouteLimitsConfig.NONE;
        this.hedge = null;
    }

    /** {@code routes[i]}, or {@code default-pool} / {@code no-route} for the router's own. */
    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** The pool of a {@link Kind#POOL} route (a split's first), else {@code null}. */
    public P pool() {
        return pool;
    }

    /** Every pool the route may send a request to, in file order: one, a split's, or none. */
    @SuppressWarnings("unchecked")
    public List<P> pools() {
        if (splitPools != null) {
            return (List<P>) List.of(splitPools);
        }
        return pool == null ? List.of() : List.of(pool);
    }

    /** Whether the route shares its requests out between pools ({@link #splitPool}). */
    public boolean splits() {
        return splitPools != null;
    }

    /** The key that keeps a client on one pool of the split, or {@code null}: each request drawn at random. */
    public AffinityConfig.Hash splitBy() {
        return splitBy;
    }

    /**
     * The pool of a split whose range holds {@code point} taken modulo the sum of the weights:
     * each pool takes the requests of its weight's share of the points. A pool's range follows the
     * ranges of the pools before it, so when a reload moves weight from the first pool to the last
     * (a canary's 5% growing to 10%), only the points between the old and the new boundary move.
     *
     * @param point a random number, or the hash of the client's key
     */
    @SuppressWarnings("unchecked")
    public P splitPool(long point) {
        int at = (int) Long.remainderUnsigned(point, splitTotal);
        int i = 0;
        while (at >= splitEnds[i]) {
            i++;
        }
        return (P) splitPools[i];
    }

    /** The status of a redirect or fixed response. */
    public int status() {
        return status;
    }

    /** The body of a fixed response. */
    public String body() {
        return body;
    }

    public AsciiString contentType() {
        return contentType;
    }

    /** The {@code Location} of a redirect for this request. */
    public String location(String scheme, String host, String target) {
        return redirect.expand(scheme, host, target);
    }

    /** The route's mirroring, or {@code null} when it copies nothing. */
    public MirrorConfig mirror() {
        return mirror;
    }

    /** The shadow pool of the route's {@link #mirror()}, or {@code null}. */
    public P mirrorPool() {
        return mirrorPool;
    }

    /** The route's own timeouts and response limit, in place of its pool's ({@link RouteLimitsConfig#NONE}: none). */
    public RouteLimitsConfig limits() {
        return limits;
    }

    /** The route's hedged requests, or {@code null} when it sends one try at a time. */
    public HedgeConfig hedge() {
        return hedge;
    }

    /** Applies the route's request edits (after the balancer's own forwarding headers). */
    public void editRequest(HttpHeaders headers) {
        requestEdits.apply(headers);
    }

    /** Applies the route's response edits. */
    public void editResponse(HttpHeaders headers) {
        responseEdits.apply(headers);
    }

    /** The compression of the route's responses, or {@code null} when they go as they came. */
    public CompressionConfig compression() {
        return compression;
    }

    /** Whether only requests over a connection with a verified client certificate may pass (else 403). */
    public boolean requiresClientCertificate() {
        return requiresClientCertificate;
    }

    /** Whether {@link #rewrite} may change the target. */
    public boolean rewrites() {
        return rewriteFrom != null;
    }

    /**
     * The request target with the route's path prefix replaced; the query is kept, and an empty
     * path becomes {@code /}. An absolute-form target is sent in origin form.
     */
    public String rewrite(String target) {
        int start = RequestTarget.pathStart(target);
        if (start < 0 || !target.startsWith(rewriteFrom, start)) {
            return target;
        }
        int end = RequestTarget.pathEnd(target, start);
        String rest = target.substring(start + rewriteFrom.length(), end);
        String path;
        if (rewriteTo.endsWith("/") && rest.startsWith("/")) {
            path = rewriteTo + rest.substring(1);
        } else {
            path = rewriteTo + rest;
        }
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        return path + target.substring(end);
    }

    @Override
    public String toString() {
        return name + " (" + kind.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }

    /** A route's header edits, names as {@link AsciiString}s: remove, then set, then add. */
    static final class HeaderEdits {
        static final HeaderEdits NONE = new HeaderEdits(HeaderEditsConfig.NONE);

        private final AsciiString[] remove;
        private final AsciiString[] setNames;
        private final String[] setValues;
        private final AsciiString[] addNames;
        private final String[] addValues;

        HeaderEdits(HeaderEditsConfig config) {
            remove = config.remove().stream().map(AsciiString::cached).toArray(AsciiString[]::new);
            setNames = names(config.set());
            setValues = config.set().stream().map(Map.Entry::getValue).toArray(String[]::new);
            addNames = names(config.add());
            addValues = config.add().stream().map(Map.Entry::getValue).toArray(String[]::new);
        }

        private static AsciiString[] names(List<Map.Entry<String, String>> pairs) {
            return pairs.stream().map(e -> AsciiString.cached(e.getKey())).toArray(AsciiString[]::new);
        }

        void apply(HttpHeaders headers) {
            for (AsciiString name : remove) {
                headers.remove(name);
            }
            for (int i = 0; i < setNames.length; i++) {
                headers.set(setNames[i], setValues[i]);
            }
            for (int i = 0; i < addNames.length; i++) {
                headers.add(addNames[i], addValues[i]);
            }
        }
    }
}
