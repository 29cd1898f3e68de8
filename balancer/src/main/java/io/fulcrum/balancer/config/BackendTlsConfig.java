package io.fulcrum.balancer.config;

import java.nio.file.Path;

/**
 * TLS toward {@code https://} backends: whom to trust, and the certificate the balancer presents
 * when a backend asks for one. Immutable.
 *
 * @param caFile the CA certificates (PEM) backends' certificates are verified against, or
 *     {@code null} for the JDK's trust store
 * @param certificate the client certificate chain and key presented to backends that ask, or
 *     {@code null} for none
 */
public record BackendTlsConfig(Path caFile, TlsConfig.Certificate certificate) {
    /** The JDK's trust store, no client certificate. */
    public static final BackendTlsConfig DEFAULT = new BackendTlsConfig(null, null);
}
