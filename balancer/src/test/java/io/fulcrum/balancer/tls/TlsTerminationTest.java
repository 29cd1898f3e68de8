package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.admin.ReloadResult;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.http.HttpRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The HTTPS listener over real sockets with the JDK's TLS client: requests proxied with
 * X-Forwarded-Proto https, certificates chosen by SNI, the protocol list honoured, certificate
 * files renewed in place picked up without a restart, a broken renewal refused while the old
 * certificate keeps serving, and configs with unusable certificates refused with the field named.
 */
class TlsTerminationTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Path certs;
    private SSLContext trustingTestCa;
    private TrustManagerFactory testCa;

    @BeforeEach
    void copyCertificates() throws Exception {
        certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key",
                "a-test.pem", "a-test.key", "b-test.pem", "b-test.key");
        testCa = TestCertificates.testCa();
        trustingTestCa = newClientContext();
    }

    private SSLContext newClientContext() throws Exception {
        return TestCertificates.clientContext(testCa);
    }

    private String tlsSection(String protocols) {
        return "tls:\n"
                + "  listen: { host: 127.0.0.1, port: 0 }\n"
                + "  cert: " + certs.resolve("localhost.pem") + "\n"
                + "  key: " + certs.resolve("localhost.key") + "\n"
                + (protocols == null ? "" : "  protocols: " + protocols + "\n")
                + "  sni:\n"
                + "    - { names: [a.test, '*.a.test'], cert: " + certs.resolve("a-test.pem") + ", key: "
                + certs.resolve("a-test.key") + " }\n"
                + "    - { names: [b.test], cert: " + certs.resolve("b-test.pem") + ", key: " + certs.resolve("b-test.key")
                + " }\n";
    }

    private Balancer balancer(ScriptedBackend backend, String protocols) throws Exception {
        return fx.balancer(BalancerYaml.create().backend("b1", backend.port()).merge(tlsSection(protocols)));
    }

    /** The subject CN of the certificate the balancer presents for {@code serverName} (none: null). */
    private String presentedName(int port, String serverName, String... protocols) throws Exception {
        // A client context of its own each time: a cached session would be resumed, and report the
        // certificate of the handshake it came from.
        try (SSLSocket socket = (SSLSocket) newClientContext().getSocketFactory().createSocket("127.0.0.1", port)) {
            SSLParameters params = socket.getSSLParameters();
            // The test CA signs for the names; the check here is which certificate came back.
            params.setEndpointIdentificationAlgorithm(null);
            params.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
            if (protocols.length > 0) {
                params.setProtocols(protocols);
            }
            socket.setSSLParameters(params);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            Certificate[] chain = socket.getSession().getPeerCertificates();
            String dn = ((X509Certificate) chain[0]).getSubjectX500Principal().getName();
            return dn.replace("CN=", "");
        }
    }

    @Test
    void requestsOverTlsAreProxiedAndMarkedHttps() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = balancer(backend, null);
        HttpClient client = HttpClient.newBuilder().sslContext(trustingTestCa).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();

        HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(
                URI.create("https://localhost:" + balancer.tlsPort() + "/secure")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(200, r.statusCode());
        HttpRequest seen = backend.received().get(backend.received().size() - 1);
        assertEquals("/secure", seen.uri());
        assertEquals("https", seen.headers().get("X-Forwarded-Proto"));
        assertTrue(balancer.port() != balancer.tlsPort(), "cleartext and TLS listen on ports of their own");
    }

    @Test
    void theCertificateIsChosenByServerName() throws Exception {
        Balancer balancer = balancer(fx.backend("b1"), null);
        int port = balancer.tlsPort();
        assertEquals("b.test", presentedName(port, "b.test"));
        assertEquals("a.test", presentedName(port, "a.test"));
        assertEquals("a.test", presentedName(port, "api.a.test"), "wildcard names match one label");
        assertEquals("localhost", presentedName(port, "unknown.test"), "no match: the default certificate");
        assertEquals("localhost", presentedName(port, null), "no SNI: the default certificate");
    }

    @Test
    void onlyTheConfiguredProtocolsAreOffered() throws Exception {
        Balancer balancer = balancer(fx.backend("b1"), "[TLSv1.3]");
        assertEquals("localhost", presentedName(balancer.tlsPort(), null, "TLSv1.3"));
        assertThrows(javax.net.ssl.SSLException.class, () -> presentedName(balancer.tlsPort(), null, "TLSv1.2"));
    }

    @Test
    void renewedCertificateFilesAreServedWithoutARestart() throws Exception {
        Balancer balancer = balancer(fx.backend("b1"), null);
        int port = balancer.tlsPort();
        assertEquals("localhost", presentedName(port, null));

        // Renewed in place, key first then chain, as certificate tools do.
        Files.copy(certs.resolve("b-test.key"), certs.resolve("localhost.key"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(certs.resolve("b-test.pem"), certs.resolve("localhost.pem"), StandardCopyOption.REPLACE_EXISTING);

        await("renewed certificate served").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> presentedName(port, null).equals("b.test"));
    }

    @Test
    void aBrokenCertificateIsRefusedAndTheOldOneKeepsServing() throws Exception {
        Balancer balancer = balancer(fx.backend("b1"), null);
        int port = balancer.tlsPort();
        // A key that does not belong to the chain.
        Files.copy(certs.resolve("a-test.key"), certs.resolve("localhost.key"), StandardCopyOption.REPLACE_EXISTING);

        ReloadResult result = balancer.reloader().reload("test").get(20, TimeUnit.SECONDS);

        assertFalse(result.applied(), "refused: " + result);
        assertTrue(result.problems().toString().contains("tls.key: the key cannot be used"),
                result.problems().toString());
        assertEquals("localhost", presentedName(port, null), "the previous certificate still serves");
        assertEquals("b.test", presentedName(port, "b.test"));
    }

    @Test
    void unusableCertificatesAreConfigErrorsNamingTheField() throws Exception {
        String base = "backends: [ { id: b1, url: \"http://127.0.0.1:9\" } ]\n";
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "tls: { listen: { port: 8443 }, cert: " + certs.resolve("nope.pem") + ", key: "
                + certs.resolve("localhost.key") + " }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(missing.problems().get(0).startsWith("tls.cert: cannot read"), missing.problems().toString());
        assertTrue(missing.problems().get(0).contains("(line 2)"), missing.problems().toString());

        ConfigException mismatched = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "tls: { listen: { port: 8443 }, cert: " + certs.resolve("localhost.pem") + ", key: "
                + certs.resolve("b-test.key") + " }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(mismatched.problems().get(0).startsWith("tls.key: the key cannot be used: the key in "),
                mismatched.problems().toString());

        Path garbage = Files.writeString(certs.resolve("garbage.key"), "not a key\n");
        ConfigException notAKey = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "tls: { listen: { port: 8443 }, cert: " + certs.resolve("localhost.pem") + ", key: " + garbage
                + " }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(notAKey.problems().get(0).startsWith("tls.key: the key cannot be used: " + garbage
                + " is not a PKCS#8 PEM private key"), notAKey.problems().toString());

        ConfigException notAChain = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "tls: { listen: { port: 8443 }, cert: " + garbage + ", key: " + certs.resolve("localhost.key")
                + " }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(notAChain.problems().get(0).startsWith("tls.cert: the certificates cannot be used"),
                notAChain.problems().toString());

        ConfigException sniKey = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "tls:\n  listen: { port: 8443 }\n  cert: " + certs.resolve("localhost.pem") + "\n  key: "
                + certs.resolve("localhost.key") + "\n  sni:\n    - { names: [a.test], cert: " + certs.resolve("a-test.pem")
                + ", key: " + certs.resolve("b-test.key") + " }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertEquals(1, sniKey.problems().size(), sniKey.problems().toString());
        assertTrue(sniKey.problems().get(0).startsWith("tls.sni[0].key: the key cannot be used"),
                sniKey.problems().toString());

        ConfigException oldProtocol = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "tls: { listen: { port: 8443 }, cert: " + certs.resolve("localhost.pem") + ", key: "
                + certs.resolve("localhost.key") + ", protocols: [TLSv1.1] }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(oldProtocol.problems().get(0).startsWith("tls.protocols[0]: unsupported TLS version"),
                oldProtocol.problems().toString());

        ConfigException samePort = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "listen: { port: 8080 }\ntls: { listen: { port: 8080 }, cert: " + certs.resolve("localhost.pem")
                + ", key: " + certs.resolve("localhost.key") + " }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(samePort.problems().get(0).startsWith("tls.listen.port"), samePort.problems().toString());
    }

    @Test
    void aLoaderNotGivenTheCertificateCheckRefusesATlsSection() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                "backends: [ { id: b1, url: \"http://127.0.0.1:9\" } ]\n"
                        + "tls: { listen: { port: 8443 }, cert: " + certs.resolve("localhost.pem") + ", key: "
                        + certs.resolve("localhost.key") + " }\n", "test.yaml"));
        assertEquals(List.of("tls: cannot be checked by this loader (expected: one given the TLS engine's certificate"
                + " check) (line 2)"), e.problems());
    }
}
