package io.fulcrum.node.config;

import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Section;
import java.util.List;

/**
 * Reads the {@code limits} section: body size, post length and timeline lengths. Immutable.
 *
 * @param maxBody largest request body
 * @param maxText longest post text
 * @param maxLimit largest timeline {@code ?limit=}
 * @param defaultLimit timeline length without {@code ?limit=}
 */
record NodeLimitsSection(int maxBody, int maxText, int maxLimit, int defaultLimit) {
    /** The top-level {@code limits}; an unset default length is at most the largest. */
    static NodeLimitsSection read(YamlMapper m, Section top) {
        SectionValues v = m.read(top, "limits", NodeSchema.LIMITS);
        int maxLimit = v.integer("max-timeline-limit");
        return new NodeLimitsSection(v.integer("max-body-bytes"), v.integer("max-text-chars"), maxLimit,
                v.integer("default-timeline-limit", Math.min(NodeLimitsConfig.DEFAULTS.defaultTimelineLimit(), maxLimit)));
    }

    /** The limits, or null with the record's problem added to {@code problems}. */
    NodeLimitsConfig config(List<String> problems) {
        return NodeConfigLoader.create(problems, "limits.",
                () -> new NodeLimitsConfig(maxBody, maxText, maxLimit, defaultLimit));
    }
}
