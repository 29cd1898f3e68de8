package io.fulcrum.node.config;

import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.List;

/**
 * Reads the optional {@code admin} section, where the node serves {@code /metrics}: a listener
 * like {@code listen}'s, on a port of its own. Stateless.
 */
final class NodeAdminSection {
    private NodeAdminSection() {
    }

    /** The admin listener, or null when the file has none (or gives it as null). */
    static NodeListenSection read(YamlMapper m, Section top) {
        Entry e = top.get("admin");
        if (e == null || YamlMapper.isNull(e.value())) {
            return null;
        }
        return NodeListenSection.read(m, top, "admin", NodeSchema.ADMIN);
    }

    /**
     * The admin listener of {@code admin} (null: none), or null with its problems added to
     * {@code problems}; the metrics never share the API's port.
     */
    static NodeListenConfig config(NodeListenSection admin, NodeListenSection listen, List<String> problems) {
        if (admin == null) {
            return null;
        }
        NodeListenConfig config = admin.config(problems);
        if (config != null && listen.port() != 0 && admin.port() == listen.port()) {
            problems.add("admin.port: " + admin.port() + " (expected: not listen.port; metrics stay off the API port)");
        }
        return config;
    }
}
