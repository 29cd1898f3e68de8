package io.fulcrum.balancer.route;

import io.fulcrum.balancer.config.HeaderMatchConfig;
import io.fulcrum.balancer.config.PathMatchConfig;
import io.fulcrum.balancer.config.RouteAction;
import io.fulcrum.balancer.config.RouteConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The routes of one config snapshot, compiled into a matcher that the request path asks once per
 * request. Routes are tried in order and the first whose conditions all hold wins; when none does,
 * the default pool's route, or the balancer's 404 ({@link Route.Kind#NO_ROUTE}).
 *
 * <p>Matching allocates nothing (except a {@link java.util.regex.Matcher} for a route with a
 * {@code regex} path that is reached): the host is looked up in a case-insensitive hash table
 * of the exact names, read in place (no lower-casing copy, the port skipped); {@code *.suffix}
 * names and paths are compared in place in the request target.
 *
 * <p>Which host a request is for: the authority of an absolute-form target when there is one (RFC
 * 9112 section 3.2.2 has it replace {@code Host}), else the {@code Host} field; for HTTP/2 that is
 * {@code :authority}, which Netty's conversion puts in {@code Host}. A trailing dot and a port are
 * ignored.
 *
 * <p>Immutable and thread-safe; a reload compiles a new one.
 *
 * @param <P> what a pool is to the caller
 */
public final class Router<P> {
    private final Matcher[] matchers;
    private final Route<P>[] routes;
    private final Route<P> fallback;
    /** Open addressing, power-of-two size: exact host (lower case) to the routes naming it. */
    private final String[] hostKeys;
    private final long[][] hostRoutes;
    /** Whether any route has a host condition at all. */
    private final boolean hostConditions;

    private Router(Matcher[] matchers, Route<P>[] routes, Route<P> fallback, Map<String, long[]> exactHosts) {
        this.matchers = matchers;
        this.routes = routes;
        this.fallback = fallback;
        int size = Integer.highestOneBit(Math.max(4, exactHosts.size() * 2 + 1) - 1) << 1;
        hostKeys = new String[size];
        hostRoutes = new long[size][];
        exactHosts.forEach((host, mask) -> {
            int i = hash(host, 0, host.length()) & (size - 1);
            while (hostKeys[i] != null) {
                i = (i + 1) & (size - 1);
            }
            hostKeys[i] = host;
            hostRoutes[i] = mask;
        });
        boolean any = false;
        for (Matcher m : matchers) {
            any |= !m.anyHost;
        }
        hostConditions = any;
    }

    /** A router that sends every request to {@code pool} (a file without routes). */
    public static <P> Router<P> everythingTo(P pool) {
        return compile(List.of(), "default", name -> pool);
    }

    /**
     * Compiles {@code routes}, which the loader validated.
     *
     * @param defaultPool the pool of requests no route matches, or {@code null} for a 404
     * @param pools the caller's pool for each pool name a route or {@code defaultPool} names
     */
    @SuppressWarnings("unchecked")
    public static <P> Router<P> compile(List<RouteConfig> routes, String defaultPool, Function<String, P> pools) {
        Matcher[] matchers = new Matcher[routes.size()];
        Route<P>[] compiled = (Route<P>[]) new Route<?>[routes.size()];
        Map<String, long[]> exact = new LinkedHashMap<>();
        int words = (routes.size() + 63) / 64;
        for (int i = 0; i < routes.size(); i++) {
            RouteConfig r = routes.get(i);
            List<P> routePools = new ArrayList<>();
            for (String name : RouteAction.pools(r.action())) {
                routePools.add(requirePool(pools, name));
            }
            P mirrorPool = r.traffic().mirror() == null ? null : requirePool(pools, r.traffic().mirror().pool());
            compiled[i] = new Route<>(r, routePools, mirrorPool);
            List<String> suffixes = new ArrayList<>();
            for (String host : r.match().hosts()) {
                if (host.startsWith("*.")) {
                    suffixes.add(host.substring(1));
                } else {
                    long[] mask = exact.computeIfAbsent(host, h -> new long[words]);
                    mask[i >>> 6] |= 1L << i;
                }
            }
            matchers[i] = new Matcher(r, suffixes);
        }
        Route<P> fallback = defaultPool == null
                ? new Route<>("no-route", Route.Kind.NO_ROUTE, null, 404, null)
                : new Route<>("default-pool", Route.Kind.POOL, requirePool(pools, defaultPool), 0, null);
        return new Router<>(matchers, compiled, fallback, exact);
    }

    private static <P> P requirePool(Function<String, P> pools, String name) {
        P pool = pools.apply(name);
        if (pool == null) {
            throw new IllegalArgumentException("no pool named " + name);
        }
        return pool;
    }

    /** Every route in order, then the one of requests that match none. */
    public List<Route<P>> routes() {
        List<Route<P>> all = new ArrayList<>(List.of(routes));
        all.add(fallback);
        return all;
    }

    /** The route of {@code request}; {@code host} is its Host field as read for the access log. */
    public Route<P> route(HttpRequest request, String host) {
        return route(request.method().name(), request.uri(), host, request.headers());
    }

    /** The route of a request with this method, target, Host field and headers. */
    public Route<P> route(String method, String target, String hostHeader, HttpHeaders headers) {
        if (matchers.length == 0) {
            return fallback;
        }
        // The host, as a range of either the target or the Host field.
        String host = hostHeader;
        int hs = 0;
        int he = 0;
        long[] exactMask = null;
        if (hostConditions) {
            int a = RequestTarget.authorityStart(target);
            if (a >= 0) {
                host = target;
                hs = a;
                he = RequestTarget.hostEnd(target, a, RequestTarget.authorityEnd(target, a));
            } else if (host != null) {
                he = RequestTarget.hostEnd(host, 0, host.length());
            }
            if (host != null) {
                exactMask = lookup(host, hs, he);
            }
        }
        int ps = RequestTarget.pathStart(target);
        int pe = ps < 0 ? -1 : RequestTarget.pathEnd(target, ps);
        for (int i = 0; i < matchers.length; i++) {
            Matcher m = matchers[i];
            if (!m.anyHost) {
                boolean exact = exactMask != null && (exactMask[i >>> 6] & (1L << i)) != 0;
                if (!exact && (host == null || !m.suffixMatches(host, hs, he))) {
                    continue;
                }
            }
            if (m.matches(method, target, ps, pe, headers)) {
                return routes[i];
            }
        }
        return fallback;
    }

    private long[] lookup(String host, int start, int end) {
        int mask = hostKeys.length - 1;
        int len = end - start;
        for (int i = hash(host, start, end) & mask; hostKeys[i] != null; i = (i + 1) & mask) {
            String key = hostKeys[i];
            if (key.length() == len && key.regionMatches(true, 0, host, start, len)) {
                return hostRoutes[i];
            }
        }
        return null;
    }

    /** A hash of {@code s[start, end)} that ignores ASCII case. */
    private static int hash(String s, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + AsciiString.toLowerCase(s.charAt(i));
        }
        return h ^ (h >>> 16);
    }

    /** The conditions of one route other than its exact hosts. */
    private static final class Matcher {
        final boolean anyHost;
        /** {@code *.example.com} as {@code .example.com}, lower case. */
        final String[] suffixes;
        final PathMatchConfig.Kind pathKind;
        final String path;
        final boolean pathIsDirectory;
        final Pattern regex;
        final String[] methods;
        final AsciiString[] headerNames;
        final String[] headerValues;

        Matcher(RouteConfig r, List<String> suffixes) {
            this.anyHost = r.match().hosts().isEmpty();
            this.suffixes = suffixes.toArray(String[]::new);
            PathMatchConfig p = r.match().path();
            this.pathKind = p == null ? null : p.kind();
            this.path = p == null ? null : p.value();
            this.pathIsDirectory = path != null && path.endsWith("/");
            this.regex = p != null && p.kind() == PathMatchConfig.Kind.REGEX ? Pattern.compile(p.value()) : null;
            this.methods = r.match().methods().isEmpty() ? null : r.match().methods().toArray(String[]::new);
            List<HeaderMatchConfig> h = r.match().headers();
            this.headerNames = h.stream().map(c -> AsciiString.cached(c.name())).toArray(AsciiString[]::new);
            this.headerValues = h.stream().map(HeaderMatchConfig::value).toArray(String[]::new);
        }

        boolean suffixMatches(String host, int start, int end) {
            for (String suffix : suffixes) {
                int len = suffix.length();
                // At least one label before the suffix: *.example.com does not match example.com.
                if (end - start > len && host.regionMatches(true, end - len, suffix, 0, len)) {
                    return true;
                }
            }
            return false;
        }

        boolean matches(String method, String target, int ps, int pe, HttpHeaders headers) {
            if (methods != null && !oneOf(method)) {
                return false;
            }
            if (pathKind != null && !pathMatches(target, ps, pe)) {
                return false;
            }
            for (int i = 0; i < headerNames.length; i++) {
                String value = headerValues[i];
                if (value == null ? !headers.contains(headerNames[i])
                        : !headers.containsValue(headerNames[i], value, false)) {
                    return false;
                }
            }
            return true;
        }

        private boolean oneOf(String method) {
            for (String m : methods) {
                if (m.equals(method)) {
                    return true;
                }
            }
            return false;
        }

        private boolean pathMatches(String target, int ps, int pe) {
            if (ps < 0) {
                return false;
            }
            int len = path.length();
            return switch (pathKind) {
                case EXACT -> pe - ps == len && target.startsWith(path, ps);
                // At a segment boundary: /static matches /static and /static/x, not /statics.
                case PREFIX -> pe - ps >= len && target.startsWith(path, ps)
                        && (pathIsDirectory || pe - ps == len || target.charAt(ps + len) == '/');
                case REGEX -> regex.matcher(target).region(ps, pe).matches();
            };
        }
    }
}
