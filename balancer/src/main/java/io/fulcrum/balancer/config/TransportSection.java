package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Section;

/**
 * Reads the top-level {@code transport}: the socket transport the balancer asks for,
 * {@code auto} (the default), {@code io_uring}, {@code epoll} or {@code nio}. Whether it can run
 * on this host is known only at start, where the balancer says which one it took. Stateless.
 */
final class TransportSection {
    private TransportSection() {
    }

    static String read(Mapper m, Section top) {
        SectionValues v = m.read(top, BalancerSchema.FILE);
        return v.oneOf("transport", (String) v.defaultValue("transport"), "transport");
    }
}
