package io.fulcrum.balancer.tls;

import io.fulcrum.balancer.config.ClientCertificatesConfig;
import io.fulcrum.balancer.config.TlsConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Server TLS contexts from PEM files: BoringSSL (netty-tcnative) when its native library loads,
 * else the JDK's engine; TLS 1.3 and 1.2 only, with forward-secret AEAD cipher suites for 1.2;
 * session resumption on (a session cache, and tickets where the engine has them). Stateless.
 */
public final class TlsContexts {
    /**
     * TLS 1.2 suites offered, strongest first: ECDHE key exchange and AEAD ciphers only (Mozilla's
     * "intermediate" list). TLS 1.3 suites are the engine's own, all of which are modern.
     */
    static final List<String> TLS12_CIPHERS = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
    private static final int SESSION_CACHE_SIZE = 20_000;
    private static final long SESSION_TIMEOUT_SECONDS = 3600;

    private TlsContexts() {
    }

    /** The engine used: BoringSSL when available, else the JDK's. */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** A description of {@link #provider()} for the log. */
    public static String providerName() {
        return OpenSsl.isAvailable() ? OpenSsl.versionString() + " (netty-tcnative)" : "the JDK's TLS engine";
    }

    /**
     * A server context for one certificate.
     *
     * @param h2 offer HTTP/2 by ALPN besides HTTP/1.1
     * @throws SSLException or {@link IllegalArgumentException} when the files are not a valid
     *     chain and matching key
     */
    public static SslContext server(TlsConfig.Certificate certificate, List<String> protocols, boolean h2)
            throws SSLException {
        return server(certificate, protocols, h2, ClientCertificatesConfig.OFF, false);
    }

    /** Whether the engine can staple OCSP responses: BoringSSL can, the JDK's engine cannot through Netty. */
    public static boolean staples() {
        return provider() == SslProvider.OPENSSL && OpenSsl.isOcspSupported();
    }

    /**
     * A server context for one certificate that asks clients for theirs as {@code clients} says,
     * verified against its CA file.
     *
     * @param h2 offer HTTP/2 by ALPN besides HTTP/1.1
     * @param ocsp let each connection's engine staple an OCSP response, where the engine can
     */
    public static SslContext server(TlsConfig.Certificate certificate, List<String> protocols, boolean h2,
            ClientCertificatesConfig clients, boolean ocsp) throws SSLException {
        // Each file is read once, and the context is built from the bytes that were checked: a
        // renewal that replaces the files meanwhile cannot pair one chain with another key.
        byte[] chainPem = read(certificate.chain());
        byte[] keyPem;
        try {
            keyPem = read(certificate.key());
        } catch (SSLException e) {
            throw new KeyProblem(e.getMessage());
        }
        checkKeyMatchesChain(certificate, chainPem, keyPem);
        // ALPN: h2 first when offered, else HTTP/1.1; a client that names neither gets HTTP/1.1.
        ApplicationProtocolConfig alpn = new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                h2 ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
                        : List.of(ApplicationProtocolNames.HTTP_1_1));
        SslContextBuilder builder = SslContextBuilder.forServer(new ByteArrayInputStream(chainPem),
                new ByteArrayInputStream(keyPem));
        if (clients.mode() != ClientCertificatesConfig.Mode.OFF) {
            builder.trustManager(new ByteArrayInputStream(read(clients.caFile())))
                    .clientAuth(clients.mode() == ClientCertificatesConfig.Mode.REQUIRED ? ClientAuth.REQUIRE
                            : ClientAuth.OPTIONAL);
        }
        return builder.sslProvider(provider())
                .enableOcsp(ocsp && staples())
                .applicationProtocolConfig(alpn)
                .protocols(protocols)
                .ciphers(TLS12_CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .sessionCacheSize(SESSION_CACHE_SIZE)
                .sessionTimeout(SESSION_TIMEOUT_SECONDS)
                .build();
    }

    /**
     * The default context and one per SNI entry, as a mapping from the requested server name, and
     * each context's certificate put in {@code certificates}.
     *
     * @param h2 offer HTTP/2 by ALPN besides HTTP/1.1
     */
    public static Mapping<String, SslContext> mapping(TlsConfig tls, boolean h2,
            java.util.Map<SslContext, TlsConfig.Certificate> certificates) throws SSLException {
        SslContext first = server(tls.certificate(), tls.protocols(), h2, tls.clientCertificates(), tls.ocspStapling());
        certificates.put(first, tls.certificate());
        DomainWildcardMappingBuilder<SslContext> builder = new DomainWildcardMappingBuilder<>(first);
        for (TlsConfig.SniCertificate sni : tls.sni()) {
            SslContext context = server(sni.certificate(), tls.protocols(), h2, tls.clientCertificates(),
                    tls.ocspStapling());
            certificates.put(context, sni.certificate());
            for (String name : sni.names()) {
                builder.add(name, context);
            }
        }
        return builder.build();
    }

    /**
     * Checks that the key file's bytes hold a PKCS#8 private key that belongs to the first
     * certificate of the chain's bytes, by signing with the one and verifying with the other, so
     * that a mismatched pair is refused when the config is read rather than on every handshake.
     */
    private static void checkKeyMatchesChain(TlsConfig.Certificate certificate, byte[] chainPem, byte[] keyPem)
            throws SSLException {
        List<? extends java.security.cert.Certificate> chain;
        try (InputStream in = new ByteArrayInputStream(chainPem)) {
            chain = List.copyOf(java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in));
        } catch (IOException | java.security.cert.CertificateException e) {
            throw new SSLException("not a PEM certificate chain: " + certificate.chain() + " (" + e.getMessage() + ")");
        }
        if (chain.isEmpty()) {
            throw new SSLException("no certificate in " + certificate.chain());
        }
        java.security.PrivateKey key = privateKey(certificate.key(), keyPem);
        java.security.PublicKey publicKey = chain.get(0).getPublicKey();
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new KeyProblem("unsupported key algorithm " + key.getAlgorithm() + " in " + certificate.key());
        };
        try {
            byte[] probe = "fulcrum key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            java.security.Signature signer = java.security.Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new KeyProblem("the key in " + certificate.key() + " does not belong to the first certificate of "
                        + certificate.chain());
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new KeyProblem("the key in " + certificate.key() + " does not belong to the first certificate of "
                    + certificate.chain() + " (" + e.getMessage() + ")");
        }
    }

    /**
     * The private key is what is wrong: not a PKCS#8 key, of an unsupported algorithm, or not the
     * key of the chain's first certificate; the config names {@code key} for it, not {@code cert}.
     */
    public static final class KeyProblem extends SSLException {
        private static final long serialVersionUID = 1L;

        KeyProblem(String message) {
            super(message);
        }
    }

    private static byte[] read(Path file) throws SSLException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new SSLException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static java.security.PrivateKey privateKey(Path file, byte[] keyPem) throws SSLException {
        String pem = new String(keyPem, java.nio.charset.StandardCharsets.US_ASCII);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int start = pem.indexOf(begin);
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) {
            throw new KeyProblem(file + " is not a PKCS#8 PEM private key (BEGIN PRIVATE KEY); convert one with"
                    + " openssl pkcs8 -topk8 -nocrypt -in old.key -out new.key");
        }
        byte[] der;
        try {
            der = java.util.Base64.getMimeDecoder().decode(pem.substring(start + begin.length(), end));
        } catch (IllegalArgumentException e) {
            throw new KeyProblem(file + " is not valid PEM: " + e.getMessage());
        }
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return java.security.KeyFactory.getInstance(algorithm)
                        .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
            } catch (java.security.GeneralSecurityException e) {
                // Try the next algorithm.
            }
        }
        throw new KeyProblem(file + " holds no RSA, EC or Ed25519 private key");
    }

    /** A digest of the files' contents (first 16 hex digits of SHA-256 over all of them). */
    public static String fingerprint(Path... files) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[8192];
            for (Path file : files) {
                try (InputStream in = Files.newInputStream(file)) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        sha.update(buffer, 0, n);
                    }
                }
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
