package io.fulcrum.balancer.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What the loader asks of the TLS engine about each certificate of the {@code tls} section: the
 * digest of its files, and whether a server context can be built of them. The engine lives in the
 * {@code tls} package, which reads this package's records; the loader is handed the engine's check
 * ({@code tls.TlsCertificateCheck}) so that the two packages depend one way only. A certificate
 * that cannot be used is then a problem of the config, named by the field at fault and its line,
 * and a reload with it is refused while the old one keeps serving.
 *
 * <p>Implementations are stateless and thread-safe; the loader calls them on its own thread.
 */
public interface CertificateCheck {
    /**
     * A digest of the contents of {@code chain} and {@code key}, recorded in the config so that a
     * renewal of the files can be told from the files in force.
     *
     * @throws IOException when a file cannot be read; the loader reports it at {@code cert}
     */
    String fingerprint(Path chain, Path key) throws IOException;

    /** Why no server context can be built of {@code certificate} for {@code protocols}, or null when one can. */
    Unusable unusable(TlsConfig.Certificate certificate, List<String> protocols);

    /**
     * Why a certificate cannot be used.
     *
     * @param field the key of the section at fault: {@code cert} or {@code key}
     * @param message the problem, as the loader reports it after the field's path
     */
    record Unusable(String field, String message) {
        /** Checks the field. */
        public Unusable {
            if (!field.equals("cert") && !field.equals("key")) {
                throw new IllegalArgumentException("field: " + field + " (expected: cert or key)");
            }
            java.util.Objects.requireNonNull(message, "message");
        }
    }
}
