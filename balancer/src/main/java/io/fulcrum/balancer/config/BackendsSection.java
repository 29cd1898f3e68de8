package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    /**
     * The {@code backends} list of a section; {@code idToPath} holds the ids already used (in
     * other pools) and gets this list's ids.
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
        m.eachMapping(e.path(), seq, BalancerSchema.BACKEND, "a mapping with id and url", b -> {
            BackendConfig backend = backend(m, b, defaultRegion, idToPath);
            if (backend != null) {
                result.add(backend);
            }
        });
        return result;
    }

    /** One backend of the list; {@code null} when its id or URL has a problem (reported). */
    private static BackendConfig backend(Mapper m, Section b, String defaultRegion, Map<String, String> idToPath) {
        String id = null;
        String idText = required(m, b, "id", "required", "a string");
        if (idText != null) {
            Entry idEntry = b.get("id");
            if (!YamlMapper.ID.matcher(idText).matches()) {
                m.problem(idEntry.path(), idEntry.value(), "not a valid id: \"" + idText
                        + "\" (expected: letters, digits, '.', '_' or '-')");
            } else if (idToPath.containsKey(idText)) {
                m.problem(idEntry.path(), idEntry.value(), "duplicate id \"" + idText + "\", already used by "
                        + idToPath.get(idText));
            } else {
                idToPath.put(idText, b.path);
                id = idText;
            }
        }
        BackendUrl url = null;
        String urlText = required(m, b, "url", "required (expected: http://host[:port] or https://host[:port])",
                "a URL");
        if (urlText != null) {
            try {
                url = BackendUrl.parse(urlText);
            } catch (BackendUrl.InvalidUrlException ex) {
                Entry urlEntry = b.get("url");
                m.problem(urlEntry.path(), urlEntry.value(), ex.getMessage());
            }
        }
        String region = m.name(b, "region", defaultRegion);
        m.backendRegions.add(region);
        SectionValues v = m.read(b, BalancerSchema.BACKEND);
        int weight = v.integer("weight");
        int maxInFlight = v.integer("max-in-flight");
        if (id == null || url == null) {
            return null;
        }
        return new BackendConfig(id, url.host(), url.port(), region, weight, maxInFlight, url.tls());
    }

    /** The text of {@code key}, a scalar; {@code null} after reporting it {@code missing} or not {@code expected}. */
    private static String required(Mapper m, Section b, String key, String missing, String expected) {
        Entry e = b.get(key);
        if (e == null) {
            m.problem(b.child(key), b.node, missing);
            return null;
        }
        return m.scalarText(e, expected);
    }
}
