package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Certificates asked of clients on the HTTPS listener (mutual TLS), and the request headers in
 * which a verified one's identity goes to the backends. Immutable.
 *
 * @param mode whether a certificate is asked for, and whether one is required
 * @param caFile the CA certificates (PEM) a client's certificate must chain to; {@code null} when off
 * @param caFingerprint a digest of the CA file when the config was read, so a changed file makes
 *     another config (and a reload applies it); {@code null} when off
 * @param subjectHeader the header carrying the certificate's subject (RFC 4514), or {@code null}
 * @param sansHeader the header carrying its subject alternative names, or {@code null}
 * @param fingerprintHeader the header carrying the SHA-256 of its DER form in hex, or {@code null}
 */
public record ClientCertificatesConfig(Mode mode, Path caFile, String caFingerprint, String subjectHeader,
        String sansHeader, String fingerprintHeader) {
    public static final String DEFAULT_SUBJECT_HEADER = "X-Client-Cert-Subject";
    public static final String DEFAULT_SANS_HEADER = "X-Client-Cert-SANs";
    public static final String DEFAULT_FINGERPRINT_HEADER = "X-Client-Cert-SHA256";
    /** No certificate asked for, no headers. */
    public static final ClientCertificatesConfig OFF = new ClientCertificatesConfig(Mode.OFF, null, null, null, null,
            null);

    /** Whether clients are asked for a certificate. */
    public enum Mode {
        /** Not asked for. */
        OFF,
        /** Asked for; a client may send none. */
        OPTIONAL,
        /** A client without one fails the handshake. */
        REQUIRED;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public ClientCertificatesConfig {
        requireNonNull(mode, "mode");
        if (mode != Mode.OFF && (caFile == null || caFingerprint == null)) {
            throw new IllegalArgumentException("client-certificates: " + mode.yamlName() + " needs a CA file");
        }
    }

    /** The digest {@code caFingerprint} holds: SHA-256 of the file's bytes, in hex. */
    public static String digest(byte[] pem) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(pem));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The header names in force, those set: each is removed from every client request. */
    public List<String> headers() {
        return java.util.stream.Stream.of(subjectHeader, sansHeader, fingerprintHeader)
                .filter(java.util.Objects::nonNull).toList();
    }
}
