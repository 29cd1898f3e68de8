package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/**
 * TLS termination: a second traffic listener that speaks HTTPS, with a default certificate and
 * optional certificates chosen by the name the client asks for (SNI).
 *
 * @param listen where the HTTPS listener binds
 * @param certificate the default certificate, served when no SNI entry matches
 * @param sni certificates chosen by server name, first match wins; names may start with {@code *.}
 * @param protocols the TLS versions offered, a subset of TLSv1.3 and TLSv1.2
 * @param clientCertificates whether clients are asked for certificates, and against which CA
 * @param ocspStapling whether OCSP responses are fetched from the certificates' responders and stapled
 */
public record TlsConfig(ListenConfig listen, Certificate certificate, List<SniCertificate> sni,
        List<String> protocols, ClientCertificatesConfig clientCertificates, boolean ocspStapling) {
    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** A listener that asks clients for no certificate. */
    public TlsConfig(ListenConfig listen, Certificate certificate, List<SniCertificate> sni, List<String> protocols) {
        this(listen, certificate, sni, protocols, ClientCertificatesConfig.OFF, true);
    }

    public TlsConfig {
        requireNonNull(listen, "listen");
        requireNonNull(clientCertificates, "clientCertificates");
        requireNonNull(certificate, "certificate");
        sni = List.copyOf(requireNonNull(sni, "sni"));
        protocols = List.copyOf(requireNonNull(protocols, "protocols"));
    }

    /** Every certificate: the default first, then the SNI ones in order. */
    public List<Certificate> certificates() {
        List<Certificate> all = new java.util.ArrayList<>();
        all.add(certificate);
        sni.forEach(s -> all.add(s.certificate()));
        return all;
    }

    /**
     * A certificate chain and its private key, both PEM files.
     *
     * @param fingerprint a digest of both files' contents when the config was read, so a config
     *     whose files changed is a different config and a reload applies it
     */
    public record Certificate(Path chain, Path key, String fingerprint) {
        public Certificate {
            requireNonNull(chain, "chain");
            requireNonNull(key, "key");
            requireNonNull(fingerprint, "fingerprint");
        }
    }

    /** A certificate for the server names it lists ({@code example.com}, {@code *.example.com}). */
    public record SniCertificate(List<String> names, Certificate certificate) {
        public SniCertificate {
            names = List.copyOf(requireNonNull(names, "names"));
            requireNonNull(certificate, "certificate");
        }
    }
}
