package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads a route's {@code request-headers} or {@code response-headers}: the headers it removes, sets
 * and adds, never those that frame the message. Problems are reported through the {@link Mapper},
 * with the same paths, line numbers and wording as every other section. Stateless.
 */
final class HeaderEditsSection {
    /** Message framing and connection management are the balancer's, never a route's to edit. */
    private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding", "connection", "keep-alive",
            "upgrade", "te", "trailer", "proxy-connection");

    private HeaderEditsSection() {
    }

    /** The edits of a section; {@link HeaderEditsConfig#NONE} when it is absent or empty. */
    static HeaderEditsConfig read(Mapper m, Section s) {
        if (s.entries.isEmpty()) {
            return HeaderEditsConfig.NONE;
        }
        List<Map.Entry<String, String>> set = pairs(m, s.get("set"));
        List<Map.Entry<String, String>> add = pairs(m, s.get("add"));
        List<String> remove = new ArrayList<>();
        Entry r = s.get("remove");
        if (r != null && m.checkTag(r.path(), r.value())) {
            for (Entry item : RouteMatchSection.items(m, r, "a list of header names")) {
                String name = editableName(m, item, m.scalarText(item, "a header name"));
                if (name != null) {
                    remove.add(name);
                }
            }
        }
        return new HeaderEditsConfig(set, add, remove);
    }

    /** Whether {@code value} may stand in a header field: no control characters but tab (RFC 9110 section 5.5). */
    static boolean validValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < ' ' && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** A {@code name: value} mapping, in file order. */
    private static List<Map.Entry<String, String>> pairs(Mapper m, Entry e) {
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
            String name = editableName(m, new Entry(item.path(), k, k), k.getValue());
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

    private static String editableName(Mapper m, Entry at, String name) {
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
}
