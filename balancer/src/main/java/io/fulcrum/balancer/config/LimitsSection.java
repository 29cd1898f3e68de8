package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;

/**
 * Reads the {@code limits} section: header, URI, body, connection and queue limits, and the rule
 * between the header and URI limits. Problems are reported through the {@link Mapper}, with the same
 * paths, line numbers and wording as every other section. Stateless.
 */
final class LimitsSection {
    private LimitsSection() {
    }

    /** The top-level {@code limits}; absent keys take the table's defaults. */
    static LimitsConfig read(Mapper m, Section top) {
        SectionValues v = m.read(top, "limits", BalancerSchema.LIMITS);
        Section s = v.section();
        int maxHeader = v.integer("max-header-bytes");
        // The request line counts towards the header limit, so a larger URI limit could never apply.
        int maxUri = v.integer("max-uri-bytes");
        if (maxUri > maxHeader) {
            Entry at = s.get("max-uri-bytes") != null ? s.get("max-uri-bytes") : s.get("max-header-bytes");
            m.problem(at.path(), at.value(), "max-uri-bytes " + maxUri + " exceeds max-header-bytes " + maxHeader
                    + " (expected: 256-" + maxHeader + ")");
            maxUri = Math.min(256, maxHeader);
        }
        long maxBody = v.longInteger("max-body-bytes");
        int maxConnections = v.integer("max-connections");
        return new LimitsConfig(maxHeader, maxUri, maxBody, maxConnections, v.integer("max-queue"),
                v.integer("connections-per-client"), v.longInteger("max-response-bytes"));
    }
}
