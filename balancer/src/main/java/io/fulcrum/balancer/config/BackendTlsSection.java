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

    /**
     * {@code backend-tls}: {@code ca-file}, a readable file, or {@code null} for the JDK's trust
     * store; {@code cert} and {@code key}, both or neither, a chain and the key of its first
     * certificate.
     */
    static BackendTlsConfig read(Mapper m, Section top) {
        Section s = m.subsection(top, "backend-tls", TlsSchema.BACKEND_TLS);
        Entry caFile = s.get("ca-file");
        Path ca = caFile == null || Mapper.isNull(caFile.value()) ? null
                : TlsSection.readableFile(m, s, "ca-file", caFile, "a PEM file with CA certificates");
        Entry cert = s.get("cert");
        Entry key = s.get("key");
        boolean hasCert = cert != null && !Mapper.isNull(cert.value());
        boolean hasKey = key != null && !Mapper.isNull(key.value());
        if (!hasCert && !hasKey) {
            return new BackendTlsConfig(ca, null);
        }
        if (m.certificates == null) {
            m.problem((hasCert ? cert : key).path(), (hasCert ? cert : key).value(),
                    "cannot be checked by this loader (expected: one given the TLS engine's certificate check)");
            return null;
        }
        Entry at = new Entry(s.path, null, s.node);
        TlsConfig.Certificate certificate = TlsSection.certificate(m, s, at);
        if (certificate == null || !TlsSection.usable(m, s, certificate, TlsConfig.DEFAULT_PROTOCOLS)) {
            return null;
        }
        return new BackendTlsConfig(ca, certificate);
    }
}
