package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a route's {@code match}: the hosts, path, methods and headers a request must have for the
 * route to take it. Problems are reported through the {@link Mapper}, with the same paths, line
 * numbers and wording as every other section. Stateless.
 */
final class RouteMatchSection {
    private RouteMatchSection() {
    }

    /** The conditions of a {@code match} section; an empty section matches every request. */
    static RouteMatchConfig read(Mapper m, Section s) {
        List<String> hosts = new ArrayList<>();
        Entry h = s.get("host");
        if (h != null && m.checkTag(h.path(), h.value())) {
            for (Entry item : items(m, h, "a host name or a list of them")) {
                String host = host(m, item);
                if (host != null) {
                    hosts.add(host);
                }
            }
        }
        PathMatchConfig path = path(m, m.subsection(s, "path", RouteSchema.PATH_MATCH), s.get("path"));
        Entry me = s.get("methods");
        List<String> methods = me == null ? new ArrayList<>() : methods(m, me);
        return new RouteMatchConfig(hosts, path, methods, headers(m, s.get("headers")));
    }

    /** The methods of a {@code methods} entry: a method or a list of them, each an RFC 9110 token. */
    static List<String> methods(Mapper m, Entry me) {
        List<String> methods = new ArrayList<>();
        if (m.checkTag(me.path(), me.value())) {
            for (Entry item : items(m, me, "a list of methods")) {
                String method = m.scalarText(item, "a method");
                if (method != null && !ConfigLoader.TOKEN.matcher(method).matches()) {
                    m.problem(item.path(), item.value(), "not a valid method: \"" + method + "\"");
                } else if (method != null) {
                    methods.add(method);
                }
            }
        }
        return methods;
    }

    /** A scalar or a list of scalars, as entries with their paths. */
    static List<Entry> items(Mapper m, Entry e, String expected) {
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

    /** The {@code headers} list: each a name that must be present, with the value it must equal if any. */
    private static List<HeaderMatchConfig> headers(Mapper m, Entry he) {
        List<HeaderMatchConfig> headers = new ArrayList<>();
        if (he == null || !m.checkTag(he.path(), he.value())) {
            return headers;
        }
        if (!(he.value() instanceof SequenceNode seq)) {
            m.problem(he.path(), he.value(), "expected a list of {name, value}, got " + Mapper.describe(he.value()));
            return headers;
        }
        for (int i = 0; i < seq.getValue().size(); i++) {
            Node n = seq.getValue().get(i);
            String p = he.path() + "[" + i + "]";
            if (!(n instanceof MappingNode)) {
                m.problem(p, n, "expected a mapping with name and optional value, got " + Mapper.describe(n));
                continue;
            }
            Section hs = m.section(n, p, RouteSchema.HEADER_MATCH);
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
        return headers;
    }

    /** A host condition: a name or {@code *.suffix}, without a port, in lower case. */
    private static String host(Mapper m, Entry e) {
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

    private static PathMatchConfig path(Mapper m, Section s, Entry at) {
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
}
