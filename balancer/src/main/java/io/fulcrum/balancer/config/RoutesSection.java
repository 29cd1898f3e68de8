package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Maps the top-level {@code routes} list and {@code default-pool} into {@link RouteConfig}s,
 * checking each against the pools that exist. Read through the static {@link #read} and
 * {@link #defaultPool(Mapper, Section, Set)}, like every section; each read works on an instance of
 * its own, confined to the loading thread like the {@link Mapper} it reports to.
 */
final class RoutesSection {
    /** The placeholders of a redirect's {@code to}. */
    static final List<String> PLACEHOLDERS = List.of("scheme", "host", "path", "query");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)\\}");
    /** Message framing and connection management are the balancer's, never a route's to edit. */
    private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding", "connection", "keep-alive",
            "upgrade", "te", "trailer", "proxy-connection");

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
        List<Node> items = seq.getValue();
        for (int i = 0; i < items.size(); i++) {
            String path = "routes[" + i + "]";
            Node item = items.get(i);
            if (!m.checkTag(path, item)) {
                continue;
            }
            if (!(item instanceof MappingNode)) {
                m.problem(path, item, "expected a mapping with `match` and one of pool, redirect or respond, got "
                        + Mapper.describe(item));
                continue;
            }
            Section s = m.section(item, path, BalancerSchema.ROUTE);
            if (s != null) {
                RouteConfig r = route(path, item, s, names);
                if (r != null) {
                    routes.add(r);
                }
            }
        }
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
        RouteMatchConfig match = match(m.subsection(s, "match", BalancerSchema.MATCH));
        List<String> actions = new ArrayList<>();
        for (String k : List.of("pool", "redirect", "respond")) {
            if (s.get(k) != null) {
                actions.add(k);
            }
        }
        RouteAction action = null;
        if (actions.isEmpty()) {
            m.problem(path, item, "needs one of pool, redirect or respond");
        } else if (actions.size() > 1) {
            Entry second = s.get(actions.get(1));
            m.problem(second.path(), second.key(), "a route has one action, but this one also has `" + actions.get(0)
                    + "` (expected: one of pool, redirect or respond)");
        } else {
            action = switch (actions.get(0)) {
                case "pool" -> {
                    String pool = poolName(s.get("pool"));
                    yield pool == null ? null : new RouteAction.ToPool(pool);
                }
                case "redirect" -> redirect(m.subsection(s, "redirect", BalancerSchema.REDIRECT), s.get("redirect"));
                default -> respond(m.subsection(s, "respond", BalancerSchema.RESPOND));
            };
        }
        HeaderEditsConfig request = edits(m.subsection(s, "request-headers", BalancerSchema.HEADER_EDITS));
        HeaderEditsConfig response = edits(m.subsection(s, "response-headers", BalancerSchema.HEADER_EDITS));
        RewriteConfig rewrite = rewrite(m.subsection(s, "rewrite", BalancerSchema.REWRITE), s.get("rewrite"), match, action);
        RateLimitConfig rateLimit = RateLimitSection.read(m, s, "rate-limit", true);
        if (action == null || m.problems.size() != before) {
            return null;
        }
        return new RouteConfig(name, match, action, request, response, rewrite, rateLimit);
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

    // ---- match ----------------------------------------------------------------------------

    private RouteMatchConfig match(Section s) {
        List<String> hosts = new ArrayList<>();
        Entry h = s.get("host");
        if (h != null && m.checkTag(h.path(), h.value())) {
            for (Entry item : items(h, "a host name or a list of them")) {
                String host = host(item);
                if (host != null) {
                    hosts.add(host);
                }
            }
        }
        PathMatchConfig path = path(m.subsection(s, "path", BalancerSchema.PATH_MATCH), s.get("path"));
        List<String> methods = new ArrayList<>();
        Entry me = s.get("methods");
        if (me != null && m.checkTag(me.path(), me.value())) {
            for (Entry item : items(me, "a list of methods")) {
                String method = m.scalarText(item, "a method");
                if (method != null && !ConfigLoader.TOKEN.matcher(method).matches()) {
                    m.problem(item.path(), item.value(), "not a valid method: \"" + method + "\"");
                } else if (method != null) {
                    methods.add(method);
                }
            }
        }
        List<HeaderMatchConfig> headers = new ArrayList<>();
        Entry he = s.get("headers");
        if (he != null && m.checkTag(he.path(), he.value())) {
            if (he.value() instanceof SequenceNode seq) {
                for (int i = 0; i < seq.getValue().size(); i++) {
                    Node n = seq.getValue().get(i);
                    String p = he.path() + "[" + i + "]";
                    if (!(n instanceof MappingNode)) {
                        m.problem(p, n, "expected a mapping with name and optional value, got " + Mapper.describe(n));
                        continue;
                    }
                    Section hs = m.section(n, p, BalancerSchema.HEADER_MATCH);
                    if (hs == null) {
                        continue;
                    }
                    if (hs.get("name") == null) {
                        m.problem(hs.child("name"), n, "required (expected: a header name)");
                        continue;
                    }
                    String name = m.headerName(hs, "name");
                    String value = hs.get("value") == null ? null : m.string(hs, "value", null);
                    if (name != null) {
                        headers.add(new HeaderMatchConfig(name, value));
                    }
                }
            } else {
                m.problem(he.path(), he.value(), "expected a list of {name, value}, got " + Mapper.describe(he.value()));
            }
        }
        return new RouteMatchConfig(hosts, path, methods, headers);
    }

    /** A host condition: a name or {@code *.suffix}, without a port, in lower case. */
    private String host(Entry e) {
        String text = m.scalarText(e, "a host name");
        if (text == null) {
            return null;
        }
        String name = text.startsWith("*.") ? text.substring(2) : text;
        if (!HostSyntax.isValid(name) || name.contains(":") || name.contains("*")) {
            m.problem(e.path(), e.value(), "not a valid host: \"" + text
                    + "\" (expected: a name like api.example.com or *.example.com, without a port)");
            return null;
        }
        return text.toLowerCase(Locale.ROOT);
    }

    private PathMatchConfig path(Section s, Entry at) {
        if (at == null || s.entries.isEmpty()) {
            if (at != null && s.node instanceof MappingNode) {
                m.problem(at.path(), at.value(), "needs one of prefix, exact or regex");
            }
            return null;
        }
        if (s.entries.size() > 1) {
            Entry second = new ArrayList<>(s.entries.values()).get(1);
            m.problem(second.path(), second.key(), "a path condition is one of prefix, exact or regex, not several");
            return null;
        }
        Entry e = s.entries.values().iterator().next();
        String kind = e.key() instanceof ScalarNode k ? k.getValue() : "";
        String value = m.scalarText(e, "a path");
        if (value == null) {
            return null;
        }
        if (kind.equals("regex")) {
            try {
                Pattern.compile(value);
            } catch (PatternSyntaxException ex) {
                m.problem(e.path(), e.value(), "not a valid regular expression: " + ex.getDescription()
                        + " near index " + ex.getIndex() + " of \"" + value + "\"");
                return null;
            }
            return new PathMatchConfig(PathMatchConfig.Kind.REGEX, value);
        }
        if (!Mapper.isRequestTarget(value) || value.indexOf('?') >= 0) {
            m.problem(e.path(), e.value(), "not a path: \"" + value
                    + "\" (expected: starting with /, without a query, spaces or control characters)");
            return null;
        }
        return new PathMatchConfig(kind.equals("exact") ? PathMatchConfig.Kind.EXACT : PathMatchConfig.Kind.PREFIX,
                value);
    }

    // ---- actions --------------------------------------------------------------------------

    private RouteAction redirect(Section s, Entry at) {
        int status = m.integer(s, "status", 302, 100, 999);
        Entry st = s.get("status");
        boolean ok = true;
        if (st != null && !RouteAction.REDIRECT_STATUSES.contains(status)) {
            m.problem(st.path(), st.value(), "not a redirect status: " + status + " (expected: 301, 302, 307 or 308)");
            ok = false;
        }
        Entry to = s.get("to");
        if (to == null) {
            m.problem(s.child("to"), at.value(), "required (expected: a URL template such as"
                    + " https://{host}{path}{query})");
            return null;
        }
        String template = m.scalarText(to, "a URL template");
        if (template == null) {
            return null;
        }
        Matcher pm = PLACEHOLDER.matcher(template);
        while (pm.find()) {
            if (!PLACEHOLDERS.contains(pm.group(1))) {
                m.problem(to.path(), to.value(), "unknown placeholder {" + pm.group(1) + "}"
                        + YamlMapper.hint(pm.group(1), PLACEHOLDERS) + " (expected: {scheme}, {host}, {path}, {query})");
                ok = false;
            }
        }
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                m.problem(to.path(), to.value(), "a Location must not contain spaces or control characters");
                ok = false;
                break;
            }
        }
        return ok ? new RouteAction.Redirect(status, template) : null;
    }

    private RouteAction respond(Section s) {
        Mapper.Values v = m.read(s, BalancerSchema.RESPOND);
        int status = v.integer("status");
        String body = "";
        Entry b = s.get("body");
        if (b != null && m.checkTag(b.path(), b.value())) {
            if (b.value() instanceof ScalarNode sn && !Mapper.isNull(b.value())) {
                body = sn.getValue();
            } else {
                m.problem(b.path(), b.value(), "expected a string, got " + Mapper.describe(b.value()));
            }
        }
        String type = v.string("content-type");
        Entry t = s.get("content-type");
        if (t != null && !validValue(type)) {
            m.problem(t.path(), t.value(), "not a valid header value: \"" + type + "\"");
        }
        return new RouteAction.Respond(status, body, type);
    }

    // ---- header edits and rewrite -----------------------------------------------------------

    private HeaderEditsConfig edits(Section s) {
        if (s.entries.isEmpty()) {
            return HeaderEditsConfig.NONE;
        }
        List<Map.Entry<String, String>> set = pairs(s.get("set"));
        List<Map.Entry<String, String>> add = pairs(s.get("add"));
        List<String> remove = new ArrayList<>();
        Entry r = s.get("remove");
        if (r != null && m.checkTag(r.path(), r.value())) {
            for (Entry item : items(r, "a list of header names")) {
                String name = editableName(item, m.scalarText(item, "a header name"));
                if (name != null) {
                    remove.add(name);
                }
            }
        }
        return new HeaderEditsConfig(set, add, remove);
    }

    /** A {@code name: value} mapping, in file order. */
    private List<Map.Entry<String, String>> pairs(Entry e) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        if (e == null || !m.checkTag(e.path(), e.value()) || Mapper.isNull(e.value())) {
            return out;
        }
        if (!(e.value() instanceof MappingNode map)) {
            m.problem(e.path(), e.value(), "expected a mapping of header names to values, got "
                    + Mapper.describe(e.value()));
            return out;
        }
        Section s = m.anyKeys(map, e.path());
        if (s == null) {
            return out;
        }
        Set<String> seen = new HashSet<>();
        for (NodeTuple t : map.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                continue;
            }
            Entry item = s.get(k.getValue());
            if (item == null || item.key() != k) {
                continue;
            }
            String name = editableName(new Entry(item.path(), k, k), k.getValue());
            String value = m.scalarText(item, "a header value");
            if (value != null && !validValue(value)) {
                m.problem(item.path(), item.value(), "not a valid header value: control characters are not allowed");
                value = null;
            }
            if (name != null && !seen.add(name.toLowerCase(Locale.ROOT))) {
                m.problem(item.path(), k, "header " + name + " is named twice (names are case-insensitive)");
                name = null;
            }
            if (name != null && value != null) {
                out.add(Map.entry(name, value));
            }
        }
        return out;
    }

    private String editableName(Entry at, String name) {
        if (name == null) {
            return null;
        }
        if (!ConfigLoader.TOKEN.matcher(name).matches()) {
            m.problem(at.path(), at.value(), "not a valid header name: \"" + name + "\" (expected: an RFC 9110 token)");
            return null;
        }
        if (FRAMING.contains(name.toLowerCase(Locale.ROOT))) {
            m.problem(at.path(), at.value(), "header " + name + " frames the message or manages the connection;"
                    + " the balancer sets it itself");
            return null;
        }
        return name;
    }

    private static boolean validValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < ' ' && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private RewriteConfig rewrite(Section s, Entry at, RouteMatchConfig match, RouteAction action) {
        if (at == null || s.entries.isEmpty()) {
            return null;
        }
        if (s.entries.size() > 1) {
            Entry second = new ArrayList<>(s.entries.values()).get(1);
            m.problem(second.path(), second.key(), "a rewrite is one of strip-prefix or replace-prefix, not both");
            return null;
        }
        if (match.path() == null || match.path().kind() != PathMatchConfig.Kind.PREFIX) {
            m.problem(at.path(), at.key(), "needs a route with match.path.prefix (the prefix it replaces)");
            return null;
        }
        if (action != null && !(action instanceof RouteAction.ToPool)) {
            m.problem(at.path(), at.key(), "only a route to a pool rewrites the path");
            return null;
        }
        Entry strip = s.get("strip-prefix");
        if (strip != null) {
            return m.read(s, BalancerSchema.REWRITE).bool("strip-prefix") ? new RewriteConfig("") : null;
        }
        Entry replace = s.get("replace-prefix");
        String text = m.scalarText(replace, "a path prefix");
        if (text == null) {
            return null;
        }
        if (!Mapper.isRequestTarget(text) || text.indexOf('?') >= 0) {
            m.problem(replace.path(), replace.value(), "not a path prefix: \"" + text
                    + "\" (expected: starting with /, without a query, spaces or control characters)");
            return null;
        }
        return new RewriteConfig(text);
    }

    /** A scalar or a list of scalars, as entries with their paths. */
    private List<Entry> items(Entry e, String expected) {
        List<Entry> out = new ArrayList<>();
        if (e.value() instanceof SequenceNode seq) {
            if (seq.getValue().isEmpty()) {
                m.problem(e.path(), e.value(), "must not be empty (leave the key out to match any)");
            }
            for (int i = 0; i < seq.getValue().size(); i++) {
                out.add(new Entry(e.path() + "[" + i + "]", e.key(), seq.getValue().get(i)));
            }
        } else if (e.value() instanceof ScalarNode && !Mapper.isNull(e.value())) {
            out.add(e);
        } else {
            m.problem(e.path(), e.value(), "expected " + expected + ", got " + Mapper.describe(e.value()));
        }
        return out;
    }
}
