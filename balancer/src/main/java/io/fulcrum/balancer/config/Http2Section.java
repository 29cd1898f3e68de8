package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Section;

/**
 * Reads the {@code http2} section: whether HTTP/2 is offered to clients and how many streams a
 * connection may have open. Its plain values are checked by its table. Stateless.
 */
final class Http2Section {
    private Http2Section() {
    }

    /** The top-level {@code http2}; absent keys take the table's defaults. */
    static Http2Config read(Mapper m, Section top) {
        SectionValues v = m.read(top, "http2", BalancerSchema.HTTP2);
        return new Http2Config(v.bool("enabled"), v.integer("max-concurrent-streams"));
    }
}
