package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Maps the top-level {@code routes} list and {@code default-pool} into {@link RouteConfig}s,
 * checking each against the pools that exist; a route's {@code match} is read by
 * {@link RouteMatchSection}, its header edits by {@link HeaderEditsSection}, and its redirect,
 * respond and rewrite by {@link RouteActionSection}. Read through the static {@link #read} and
 * {@link #defaultPool(Mapper, Section, Set)}, like every section; each read works on an instance of
 * its own, confined to the loading thread like the {@link Mapper} it reports to.
 */
final class RoutesSection {
    private final Mapper m;
    private final Set<String> pools;

    private RoutesSection(Mapper mapper, Set<String> pools) {
        this.m = mapper;
        this.pools = pools;
    }

    /** The routes in file order, each checked against {@code pools}, the names of the pools that exist. */
    static List<RouteConfig> read(Mapper m, Section top, Set<String> pools) {
        return new RoutesSection(m, pools).routes(top);
    }

    /** {@code default-pool}, or the pool that takes its place; see {@link #defaultPool(Section, boolean)}. */
    static String defaultPool(Mapper m, Section top, Set<String> pools) {
        return new RoutesSection(m, pools).defaultPool(top, top.get("routes") != null);
    }

    /** The routes in file order; an empty list when the file has none. */
    private List<RouteConfig> routes(Section top) {
        Entry e = top.get("routes");
        if (e == null || !m.checkTag(e.path(), e.value()) || Mapper.isNull(e.value())) {
            return List.of();
        }
        if (!(e.value() instanceof SequenceNode seq)) {
            m.problem(e.path(), e.value(), "expected a list of routes, got " + Mapper.describe(e.value()));
            return List.of();
        }
        List<RouteConfig> routes = new ArrayList<>();
        Set<String> names = new HashSet<>();
        m.eachMapping(e.path(), seq, BalancerSchema.ROUTE, "a mapping with `match` and one of pool, split, redirect or respond",
                s -> {
                    RouteConfig r = route(s.path, s.node, s, names);
                    if (r != null) {
                        routes.add(r);
                    }
                });
        return routes;
    }

    /**
     * The pool of requests that no route matches: {@code default-pool} when set; else, in a file
     * without routes, the pool {@value PoolConfig#DEFAULT} if there is one; else {@code null} (404).
     */
    private String defaultPool(Section top, boolean hasRoutes) {
        Entry e = top.get("default-pool");
        if (e == null || !m.checkTag(e.path(), e.value()) || Mapper.isNull(e.value())) {
            if (!hasRoutes && pools.contains(PoolConfig.DEFAULT)) {
                return PoolConfig.DEFAULT;
            }
            if (!hasRoutes && !pools.isEmpty()) {
                m.problem("routes", top.node, "required when no pool is named \"" + PoolConfig.DEFAULT
                        + "\" and no `default-pool` is set (expected: routes that send requests to the pools)");
            }
            return null;
        }
        return poolName(e);
    }

    private RouteConfig route(String path, Node item, Section s, Set<String> names) {
        int before = m.problems.size();
        String name = routeName(s.get("name"), path, names);
        RouteMatchConfig match = RouteMatchSection.read(m, m.subsection(s, "match", RouteSchema.MATCH));
        List<String> actions = new ArrayList<>();
        for (String k : List.of("pool", "split", "redirect", "respond")) {
            if (s.get(k) != null) {
                actions.add(k);
            }
        }
        RouteAction action = null;
        if (actions.isEmpty()) {
            m.problem(path, item, "needs one of pool, split, redirect or respond");
        } else if (actions.size() > 1) {
            Entry second = s.get(actions.get(1));
            m.problem(second.path(), second.key(), "a route has one action, but this one also has `" + actions.get(0)
                    + "` (expected: one of pool, split, redirect or respond)");
        } else {
            action = switch (actions.get(0)) {
                case "pool" -> {
                    String pool = poolName(s.get("pool"));
                    yield pool == null ? null : new RouteAction.ToPool(pool);
                }
                case "split" -> TrafficSection.split(m, s, s.get("split"), this::poolName);
                case "redirect" -> RouteActionSection.redirect(m, m.subsection(s, "redirect", RouteSchema.REDIRECT),
                        s.get("redirect"));
                default -> RouteActionSection.respond(m, m.subsection(s, "respond", RouteSchema.RESPOND));
            };
        }
        HeaderEditsConfig request = HeaderEditsSection.read(m, m.subsection(s, "request-headers",
                RouteSchema.HEADER_EDITS));
        HeaderEditsConfig response = HeaderEditsSection.read(m, m.subsection(s, "response-headers",
                RouteSchema.HEADER_EDITS));
        RewriteConfig rewrite = RouteActionSection.rewrite(m, m.subsection(s, "rewrite", RouteSchema.REWRITE),
                s.get("rewrite"), match, action);
        RateLimitConfig rateLimit = RateLimitSection.read(m, s, "rate-limit", true);
        TrafficSection.checkSplitBy(m, s);
        CompressionConfig compression = CompressionSection.read(m, s);
        if (compression != null && action != null && RouteAction.pools(action).isEmpty()) {
            m.problem(s.child("compression"), s.get("compression").key(),
                    "only a route to pools compresses (expected: with `pool` or `split`, not redirect or respond)");
        }
        RouteTrafficConfig traffic = TrafficSection.traffic(m, s, action, this::poolName);
        RouteAccessConfig access = AccessSection.route(m, s, action);
        RouteLimitsConfig limits = AccessSection.limits(m, s, action);
        if (action == null || m.problems.size() != before) {
            return null;
        }
        return new RouteConfig(name, match, action, request, response, rewrite, rateLimit, compression,
                m.bool(s, "require-client-certificate", false), traffic, access, limits);
    }

    /** Names the balancer gives requests no route of the file took. */
    private static final Set<String> RESERVED_NAMES = Set.of("no-route", "default-pool", "none");

    /**
     * The route's {@code name}, unique among the routes, or its position ({@code routes[i]}) when it
     * has none, or when the name has a problem (reported).
     */
    private String routeName(Entry e, String path, Set<String> names) {
        if (e == null) {
            return path;
        }
        String name = m.scalarText(e, "a route name");
        if (name == null) {
            return path;
        }
        if (!YamlMapper.ID.matcher(name).matches()) {
            m.problem(e.path(), e.value(), "not a valid route name: \"" + name
                    + "\" (expected: letters, digits, '.', '_' or '-')");
        } else if (RESERVED_NAMES.contains(name)) {
            m.problem(e.path(), e.value(), "\"" + name + "\" names the balancer's own answers (expected: another name)");
        } else if (!names.add(name)) {
            m.problem(e.path(), e.value(), "another route is already named \"" + name + "\"");
        }
        return name;
    }

    private String poolName(Entry e) {
        String name = m.scalarText(e, "a pool name");
        if (name == null) {
            return null;
        }
        if (!pools.contains(name)) {
            m.problem(e.path(), e.value(), "no pool named \"" + name + "\"" + YamlMapper.hint(name, pools)
                    + " (expected: one of " + String.join(", ", pools) + ")");
            return null;
        }
        return name;
    }
}
