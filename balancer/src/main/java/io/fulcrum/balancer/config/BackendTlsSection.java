package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.nio.file.Path;

/**
 * Reads the {@code backend-tls} section: the CA certificates that {@code https://} backends are
 * verified against. Problems are reported through the {@link Mapper}, with the same paths, line
 * numbers and wording as every other section. Stateless.
 */
final class BackendTlsSection {
    private BackendTlsSection() {
    }

    /** {@code backend-tls.ca-file}, a readable file, or {@code null} for the JDK's trust store. */
    static Path caFile(Mapper m, Section top) {
        Section s = m.subsection(top, "backend-tls", BalancerSchema.BACKEND_TLS);
        Entry caFile = s.get("ca-file");
        return caFile == null || Mapper.isNull(caFile.value()) ? null
                : TlsSection.readableFile(m, s, "ca-file", caFile, "a PEM file with CA certificates");
    }
}
