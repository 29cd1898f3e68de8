package io.fulcrum.balancer.config;

import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Section;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the backends file of {@code discovery.file}: YAML (or JSON, which is YAML) with one key,
 * {@code backends}, a list written exactly as the main config's {@code backends}, and checked the
 * same way (ids, URLs, regions, weights; problems name the field and line). Stateless.
 */
public final class BackendsFile {
    private static final List<String> KEYS = List.of("backends");

    private BackendsFile() {
    }

    /**
     * The backends listed in {@code file}; those without a region are in {@code defaultRegion}.
     *
     * @throws ConfigException naming the file and every problem found
     */
    public static List<BackendConfig> load(Path file, String defaultRegion) throws ConfigException {
        return parse(ConfigLoader.read(file), file.toString(), defaultRegion);
    }

    static List<BackendConfig> parse(String text, String source, String defaultRegion) throws ConfigException {
        YamlMapper.Document composed = ConfigLoader.compose(text, source);
        Node root = composed.root();
        if (root == null || ConfigLoader.Mapper.isNull(root)) {
            throw new ConfigException(List.of(source + ": empty (expected: a mapping with `backends`)"));
        }
        ConfigLoader.Mapper m = new ConfigLoader.Mapper(composed.tagged());
        List<BackendConfig> backends = List.of();
        if (!(root instanceof MappingNode)) {
            m.problem("(top level)", root, "expected a mapping with `backends`, got " + ConfigLoader.Mapper.describe(root));
        } else {
            Section top = m.section(root, "", KEYS);
            if (top != null) {
                backends = BackendsSection.read(m, top, defaultRegion, new HashMap<>());
            }
        }
        List<String> problems = m.sortedProblems();
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.stream().map(p -> source + ": " + p).toList());
        }
        return backends;
    }
}
