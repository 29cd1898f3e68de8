package io.fulcrum.node.config;

import io.fulcrum.config.FieldTable;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Section;
import java.util.List;

/**
 * Reads the {@code listen} section, and {@code admin}'s address through {@link NodeAdminSection}: a
 * host and a port. Immutable.
 *
 * @param key the section's key, which prefixes the record's own messages
 * @param host the address to bind
 * @param port the TCP port
 */
record NodeListenSection(String key, String host, int port) {
    /** The top-level {@code listen}; its problems go to {@code m}. */
    static NodeListenSection read(YamlMapper m, Section top) {
        return read(m, top, "listen", NodeSchema.LISTEN);
    }

    /** A listener under {@code key}, its keys checked against {@code table}. */
    static NodeListenSection read(YamlMapper m, Section top, String key, FieldTable table) {
        SectionValues v = m.read(top, key, table);
        return new NodeListenSection(key, v.string("host"), v.integer("port"));
    }

    /** The listener, or null with the record's problem added to {@code problems}. */
    NodeListenConfig config(List<String> problems) {
        return NodeConfigLoader.create(problems, key + ".", () -> new NodeListenConfig(host, port));
    }
}
