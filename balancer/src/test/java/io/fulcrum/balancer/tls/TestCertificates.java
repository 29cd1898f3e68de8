package io.fulcrum.balancer.tls;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The test certificates under {@code src/test/resources/tls}: a test CA ({@code ca.pem}) and leaf
 * certificates it signed for {@code localhost} (and 127.0.0.1), {@code a.test} (and
 * {@code *.a.test}) and {@code b.test}, each with its PKCS#8 key, valid until 2126; and for
 * mutual TLS, a client CA ({@code client-ca.pem}), a client certificate it signed
 * ({@code client.pem}, {@code O=Fulcrum Tests, CN=client.test} with DNS, email, URI and IP names)
 * and a self-signed one nobody vouches for ({@code stranger.pem}), each with its key.
 */
public final class TestCertificates {
    private TestCertificates() {
    }

    /** Copies the named files into {@code dir} (so a test may overwrite them) and returns it. */
    public static Path copyTo(Path dir, String... names) throws Exception {
        Files.createDirectories(dir);
        for (String name : names) {
            try (InputStream in = TestCertificates.class.getResourceAsStream("/tls/" + name)) {
                Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }

    /**
     * Copies the {@code localhost} certificate and key into {@code workDir}/certs and returns the
     * balancer's {@code tls:} section that serves them on 127.0.0.1, port 0; a test may append
     * more keys of the section.
     */
    public static String tlsSection(Path workDir) throws Exception {
        Path certs = copyTo(workDir.resolve("certs"), "localhost.pem", "localhost.key");
        return "tls:\n"
                + "  listen: { host: 127.0.0.1, port: 0 }\n"
                + "  cert: " + certs.resolve("localhost.pem") + "\n"
                + "  key: " + certs.resolve("localhost.key") + "\n";
    }

    /** Trust managers that trust the test CA only. */
    public static TrustManagerFactory testCa() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = TestCertificates.class.getResourceAsStream("/tls/ca.pem")) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf;
    }

    /**
     * A new client TLS context that trusts the test CA only (its own session cache); fails the
     * test when the CA cannot be read.
     */
    public static SSLContext trustingTestCa() {
        try {
            return clientContext(testCa());
        } catch (Exception e) {
            throw new IllegalStateException("the test CA", e);
        }
    }

    /**
     * A new client TLS context that trusts the test CA and presents the certificate {@code name}
     * ({@code name.pem} and {@code name.key} of the test resources).
     */
    public static SSLContext presenting(String name) throws Exception {
        java.security.cert.Certificate[] chain;
        try (InputStream in = TestCertificates.class.getResourceAsStream("/tls/" + name + ".pem")) {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(in)
                    .toArray(new java.security.cert.Certificate[0]);
        }
        String pem;
        try (InputStream in = TestCertificates.class.getResourceAsStream("/tls/" + name + ".key")) {
            pem = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
        byte[] der = java.util.Base64.getMimeDecoder().decode(pem.replace("-----BEGIN PRIVATE KEY-----", "")
                .replace("-----END PRIVATE KEY-----", ""));
        java.security.PrivateKey key = java.security.KeyFactory.getInstance("RSA")
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry(name, key, new char[0], chain);
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), testCa().getTrustManagers(), null);
        return context;
    }

    /** A new client TLS context that trusts the test CA (its own session cache). */
    public static SSLContext clientContext(TrustManagerFactory testCa) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, testCa.getTrustManagers(), null);
        return context;
    }
}
