package io.fulcrum.balancer.config;

import java.util.List;
import java.util.Map;

/**
 * Header edits of a route, applied in this order: {@code remove}, then {@code set} (replaces
 * every field of the name), then {@code add} (one more field). Immutable.
 *
 * @param set name to value, in file order
 * @param add name to value, in file order
 * @param remove names
 */
public record HeaderEditsConfig(List<Map.Entry<String, String>> set, List<Map.Entry<String, String>> add,
        List<String> remove) {
    public static final HeaderEditsConfig NONE = new HeaderEditsConfig(List.of(), List.of(), List.of());

    public HeaderEditsConfig {
        set = List.copyOf(set);
        add = List.copyOf(add);
        remove = List.copyOf(remove);
    }

    public boolean isEmpty() {
        return set.isEmpty() && add.isEmpty() && remove.isEmpty();
    }
}
