package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.FieldTable;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.List;

/**
 * Reads {@code protocol}, at the top level (the pool "default", and what other pools inherit) or in
 * a pool, and checks it against the pool's backends and health check: {@code h2} is HTTP/2 over
 * TLS, so every backend needs an {@code https://} URL; {@code h2c} is HTTP/2 in clear text, so none
 * may have one; a {@code grpc} health check needs HTTP/2 ({@code h2c} or {@code h2}). Stateless.
 */
final class ProtocolSection {
    private ProtocolSection() {
    }

    /**
     * @param s the file or the pool's section
     * @param table {@link BalancerSchema#FILE} or {@link BalancerSchema#POOL}
     * @param inherited the value when {@code s} does not set it
     */
    static BackendProtocol read(Mapper m, Section s, FieldTable table, BackendProtocol inherited,
            List<BackendConfig> backends, HealthConfig health) {
        BackendProtocol protocol = BackendProtocol.of(m.read(s, table).oneOf("protocol", inherited.word(), "protocol"));
        Entry e = s.get("protocol");
        String where = e != null ? e.path() : s.child("protocol");
        var at = e != null ? e.value() : s.node;
        for (BackendConfig b : backends) {
            if (protocol == BackendProtocol.H2 && !b.tls()) {
                m.problem(where, at, "h2 is HTTP/2 over TLS, but backend " + b.id() + " is " + b.url()
                        + " (use h2c for HTTP/2 in clear text, or an https:// URL)");
                return inherited;
            }
            if (protocol == BackendProtocol.H2C && b.tls()) {
                m.problem(where, at, "h2c is HTTP/2 in clear text, but backend " + b.id() + " is " + b.url()
                        + " (use h2 or auto for HTTP/2 over TLS)");
                return inherited;
            }
        }
        if (health.grpc() && health.enabled() && protocol != BackendProtocol.H2C && protocol != BackendProtocol.H2) {
            m.problem(where, at, "a grpc health check needs HTTP/2 backends (protocol h2c or h2), not "
                    + protocol.word());
        }
        return protocol;
    }
}
