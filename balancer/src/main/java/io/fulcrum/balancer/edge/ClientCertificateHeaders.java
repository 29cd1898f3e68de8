package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.config.ClientCertificatesConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * The request headers in which a client certificate's identity goes to the backends: each is
 * removed from every request first, whichever listener it came in on and whether or not its
 * connection has a certificate, so a client cannot forge them; then set from the verified
 * certificate, if any. Immutable and thread-safe.
 */
public final class ClientCertificateHeaders {
    private final AsciiString subject;
    private final AsciiString sans;
    private final AsciiString fingerprint;

    private ClientCertificateHeaders(ClientCertificatesConfig config) {
        this.subject = name(config.subjectHeader());
        this.sans = name(config.sansHeader());
        this.fingerprint = name(config.fingerprintHeader());
    }

    /** The headers of {@code config}, or {@code null} when clients are not asked for certificates. */
    public static ClientCertificateHeaders of(ClientCertificatesConfig config) {
        return config == null || config.mode() == ClientCertificatesConfig.Mode.OFF || config.headers().isEmpty()
                ? null : new ClientCertificateHeaders(config);
    }

    /**
     * Removes the headers from {@code headers}, and sets them from a verified certificate's
     * {@code subjectValue}, {@code sansValue} and {@code fingerprintValue} when the connection has
     * one (each {@code null} for none).
     */
    public void apply(HttpHeaders headers, String subjectValue, String sansValue, String fingerprintValue) {
        set(headers, subject, subjectValue);
        set(headers, sans, sansValue);
        set(headers, fingerprint, fingerprintValue);
    }

    private static void set(HttpHeaders headers, AsciiString name, String value) {
        if (name == null) {
            return;
        }
        headers.remove(name);
        if (value != null && !value.isEmpty()) {
            headers.set(name, value);
        }
    }

    private static AsciiString name(String header) {
        return header == null ? null : AsciiString.cached(header);
    }
}
