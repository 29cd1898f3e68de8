package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import io.fulcrum.config.YamlMapper.Values;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a {@code backends} list (the top level's, a pool's, or a discovery file's): each backend's
 * id, URL, region, weight and in-flight cap, ids unique across every pool. Problems are reported
 * through the {@link Mapper}, with the same paths, line numbers and wording as every other section.
 * Stateless.
 */
final class BackendsSection {
    private BackendsSection() {
    }

    /** The {@code backends} list of {@code top}, its ids used by no other list. */
    static List<BackendConfig> read(Mapper m, Section top, String defaultRegion) {
        return read(m, top, defaultRegion, new HashMap<>());
    }

    /**
     * The {@code backends} list of a section; {@code idToPath} holds the ids already used (in
     * other pools) and gets m list's ids.
     */
    static List<BackendConfig> read(Mapper m, Section top, String defaultRegion, Map<String, String> idToPath) {
        Entry e = top.get("backends");
        if (e == null) {
            m.problem(top.child("backends"), top.node, "required (expected: a list of at least one backend)");
            return List.of();
        }
        if (!m.checkTag(e.path(), e.value())) {
            return List.of();
        }
        if (!(e.value() instanceof SequenceNode seq)) {
            m.problem(e.path(), e.value(), "expected a list of backends, got " + Mapper.describe(e.value()));
            return List.of();
        }
        if (seq.getValue().isEmpty()) {
            m.problem(e.path(), e.value(), "at least one backend is required");
            return List.of();
        }
        List<BackendConfig> result = new ArrayList<>();
        List<Node> items = seq.getValue();
        for (int i = 0; i < items.size(); i++) {
            String path = top.child("backends") + "[" + i + "]";
            Node item = items.get(i);
            if (!m.checkTag(path, item)) {
                continue;
            }
            if (!(item instanceof MappingNode)) {
                m.problem(path, item, "expected a mapping with id and url, got " + Mapper.describe(item));
                continue;
            }
            Section b = m.section(item, path, BalancerSchema.BACKEND);
            if (b == null) {
                continue;
            }
            String id = null;
            Entry idEntry = b.get("id");
            if (idEntry == null) {
                m.problem(b.child("id"), item, "required");
            } else {
                String text = m.scalarText(idEntry, "a string");
                if (text != null) {
                    if (!YamlMapper.ID.matcher(text).matches()) {
                        m.problem(idEntry.path(), idEntry.value(), "not a valid id: \"" + text
                                + "\" (expected: letters, digits, '.', '_' or '-')");
                    } else if (idToPath.containsKey(text)) {
                        m.problem(idEntry.path(), idEntry.value(), "duplicate id \"" + text + "\", already used by "
                                + idToPath.get(text));
                    } else {
                        idToPath.put(text, path);
                        id = text;
                    }
                }
            }
            BackendUrl url = null;
            Entry urlEntry = b.get("url");
            if (urlEntry == null) {
                m.problem(b.child("url"), item, "required (expected: http://host[:port] or https://host[:port])");
            } else {
                String text = m.scalarText(urlEntry, "a URL");
                if (text != null) {
                    try {
                        url = BackendUrl.parse(text);
                    } catch (BackendUrl.InvalidUrlException ex) {
                        m.problem(urlEntry.path(), urlEntry.value(), ex.getMessage());
                    }
                }
            }
            String region = m.name(b, "region", defaultRegion);
            m.backendRegions.add(region);
            Values v = m.read(b, BalancerSchema.BACKEND);
            int weight = v.integer("weight");
            int maxInFlight = v.integer("max-in-flight");
            if (id != null && url != null) {
                result.add(new BackendConfig(id, url.host(), url.port(), region, weight, maxInFlight, url.tls()));
            }
        }
        return result;
    }
}
