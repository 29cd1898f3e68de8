package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Curl;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.LoopbackServer;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Mutual TLS with real clients (the JDK's HttpClient over HTTP/1.1 and HTTP/2, curl over HTTP/2):
 * client certificates asked for, required or optional; the verified identity passed to the
 * backend in the configured headers, which no client can forge; a route that requires a
 * certificate; the client CA file re-read when it changes; and the balancer's own client
 * certificate presented to a backend that requires one.
 */
class MutualTlsTest {
    private static final String SUBJECT = "CN=client.test,O=Fulcrum Tests";
    private static final String SANS = "DNS:client.test, email:ops@client.test, URI:spiffe://fulcrum.test/client, "
            + "IP:127.0.0.1";

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Path certs;

    @BeforeEach
    void copyCertificates() throws Exception {
        certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key",
                "client-ca.pem", "client.pem", "client.key", "stranger.pem", "stranger.key");
    }

    private Balancer balancer(ScriptedBackend backend, String mode) throws Exception {
        return fx.balancer(BalancerYaml.create().backend("b1", backend.port()).merge("tls:\n"
                + "  listen: { host: 127.0.0.1, port: 0 }\n"
                + "  cert: " + certs.resolve("localhost.pem") + "\n"
                + "  key: " + certs.resolve("localhost.key") + "\n"
                + "  client-certificates: " + mode + "\n"
                + "  client-ca-file: " + certs.resolve("client-ca.pem") + "\n"
                + "  client-certificate-headers: { fingerprint: X-Client-Fingerprint }\n"
                + "routes:\n"
                + "  - match: { path: { prefix: /private } }\n"
                + "    pool: default\n"
                + "    require-client-certificate: true\n"
                + "  - pool: default\n"));
    }

    private static HttpResponse<String> get(SSLContext tls, HttpClient.Version version, String url) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).version(version)
                .connectTimeout(Duration.ofSeconds(10)).build();
        return client.send(java.net.http.HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("X-Client-Cert-Subject", "CN=forged").header("X-Client-Fingerprint", "forged").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest last(ScriptedBackend backend) {
        return backend.received().get(backend.received().size() - 1);
    }

    private static String sha256(String resource) throws Exception {
        try (InputStream in = MutualTlsTest.class.getResourceAsStream("/tls/" + resource)) {
            X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        }
    }

    @Test
    void aRequiredCertificateIsVerifiedAndItsIdentityReachesTheBackend() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = balancer(backend, "required");
        String url = "https://localhost:" + b.tlsPort() + "/hello";

        for (HttpClient.Version version : List.of(HttpClient.Version.HTTP_1_1, HttpClient.Version.HTTP_2)) {
            HttpResponse<String> r = get(TestCertificates.presenting("client"), version, url);
            assertEquals(200, r.statusCode(), version.toString());
            HttpRequest seen = last(backend);
            assertEquals(SUBJECT, seen.headers().get("X-Client-Cert-Subject"), version + ": not the forged one");
            assertEquals(SANS, seen.headers().get("X-Client-Cert-SANs"), version.toString());
            assertEquals(sha256("client.pem"), seen.headers().get("X-Client-Fingerprint"), version.toString());
        }
        assertThrows(IOException.class, () -> get(TestCertificates.trustingTestCa(), HttpClient.Version.HTTP_1_1, url),
                "no certificate: no handshake");
        assertThrows(IOException.class, () -> get(TestCertificates.presenting("stranger"), HttpClient.Version.HTTP_1_1,
                url), "a certificate the client CA did not sign: no handshake");
    }

    @Test
    void anOptionalCertificateLetsClientsWithoutOneInExceptToRoutesThatRequireIt() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = balancer(backend, "optional");
        String base = "https://localhost:" + b.tlsPort();

        HttpResponse<String> anonymous = get(TestCertificates.trustingTestCa(), HttpClient.Version.HTTP_2, base + "/open");
        assertEquals(200, anonymous.statusCode());
        assertNull(last(backend).headers().get("X-Client-Cert-Subject"), "a client's own value never passes");
        assertNull(last(backend).headers().get("X-Client-Fingerprint"));
        int before = backend.received().size();
        assertEquals(403, get(TestCertificates.trustingTestCa(), HttpClient.Version.HTTP_1_1, base + "/private/a")
                .statusCode());
        assertEquals(403, get(TestCertificates.trustingTestCa(), HttpClient.Version.HTTP_2, base + "/private/b")
                .statusCode());
        assertEquals(before, backend.received().size(), "refused before any backend");
        assertEquals(200, get(TestCertificates.presenting("client"), HttpClient.Version.HTTP_2, base + "/private/c")
                .statusCode());
        assertEquals(SUBJECT, last(backend).headers().get("X-Client-Cert-Subject"));

        HttpResponse<String> cleartext = HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + b.port() + "/open")).header("X-Client-Cert-SANs", "DNS:forged")
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, cleartext.statusCode());
        assertNull(last(backend).headers().get("X-Client-Cert-SANs"), "stripped on the cleartext port too");
        assertEquals(403, HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + b.port() + "/private/d")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void curlOverHttp2PresentsItsCertificate() throws Exception {
        Curl.requireInstalled();
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = balancer(backend, "required");
        String out = Curl.run("--http2", "--cacert", certs.resolve("ca.pem").toString(), "--cert",
                certs.resolve("client.pem").toString(), "--key", certs.resolve("client.key").toString(), "-w",
                "\n%{http_version} %{http_code}", "https://localhost:" + b.tlsPort() + "/private/curl");
        assertTrue(out.endsWith("\n2 200"), out);
        assertEquals(SUBJECT, last(backend).headers().get("X-Client-Cert-Subject"));
    }

    @Test
    void aChangedClientCaFileIsReadWithoutARestart() throws Exception {
        Balancer b = balancer(fx.backend("b1"), "required");
        String url = "https://localhost:" + b.tlsPort() + "/";
        assertEquals(200, get(TestCertificates.presenting("client"), HttpClient.Version.HTTP_1_1, url).statusCode());

        // The stranger becomes the only client the CA file vouches for.
        Files.copy(certs.resolve("stranger.pem"), certs.resolve("client-ca.pem"), StandardCopyOption.REPLACE_EXISTING);

        await("the new client CA in force").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                .until(() -> accepted("stranger", url));
        assertFalse(accepted("client", url), "the old CA's client is refused");
    }

    private static boolean accepted(String name, String url) throws Exception {
        try {
            return get(TestCertificates.presenting(name), HttpClient.Version.HTTP_1_1, url).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void theBalancerPresentsItsClientCertificateToABackendThatRequiresOne() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        SslContext server = SslContextBuilder.forServer(certs.resolve("localhost.pem").toFile(),
                certs.resolve("localhost.key").toFile()).trustManager(certs.resolve("client-ca.pem").toFile())
                .clientAuth(ClientAuth.REQUIRE).build();
        LoopbackServer backend = fx.closeAfter(LoopbackServer.start(ch -> ch.pipeline().addLast(
                server.newHandler(ch.alloc()), new HttpServerCodec(), new HttpObjectAggregator(65536),
                new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest r) throws Exception {
                        X509Certificate peer = (X509Certificate) ctx.pipeline().get(SslHandler.class).engine()
                                .getSession().getPeerCertificates()[0];
                        seen.add(peer.getSubjectX500Principal().getName());
                        DefaultFullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                HttpResponseStatus.OK);
                        out.headers().set("Content-Length", 0);
                        ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
                    }
                })));
        Balancer b = fx.balancer(BalancerYaml.create()
                .backend(new BalancerYaml.Backend("tls-1", "localhost", backend.port(), null, 0, 0, true))
                .merge("backend-tls: { ca-file: " + certs.resolve("ca.pem") + ", cert: " + certs.resolve("client.pem")
                        + ", key: " + certs.resolve("client.key") + " }\n"));

        HttpResponse<String> r = HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + b.port() + "/")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(200, r.statusCode());
        assertTrue(seen.contains(SUBJECT), seen.toString());
    }

    @Test
    void badClientCertificateSettingsAreConfigErrorsNamingTheField() throws Exception {
        String base = "backends: [ { id: b1, url: \"http://127.0.0.1:9\" } ]\n"
                + "tls:\n  listen: { port: 8443 }\n  cert: " + certs.resolve("localhost.pem") + "\n  key: "
                + certs.resolve("localhost.key") + "\n";
        ConfigException noCa = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "  client-certificates: required\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(noCa.problems().get(0).startsWith("tls.client-ca-file: required when client-certificates is required"),
                noCa.problems().toString());
        assertTrue(noCa.problems().get(0).contains("(line 6)"), noCa.problems().toString());

        ConfigException notCa = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "  client-certificates: optional\n  client-ca-file: " + certs.resolve("localhost.key")
                + "\n  client-certificate-headers: { subject: \"bad name\" }\n", "test.yaml",
                TlsCertificateCheck.INSTANCE));
        assertTrue(notCa.problems().toString().contains("tls.client-ca-file: not a PEM file of CA certificates"),
                notCa.problems().toString());

        ConfigException badMode = assertThrows(ConfigException.class, () -> ConfigLoader.parse(base
                + "  client-certificates: always\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(badMode.problems().get(0).startsWith("tls.client-certificates:"), badMode.problems().toString());

        ConfigException noKey = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                "backends: [ { id: b1, url: \"https://127.0.0.1:9\" } ]\nbackend-tls: { cert: "
                        + certs.resolve("client.pem") + " }\n", "test.yaml", TlsCertificateCheck.INSTANCE));
        assertTrue(noKey.problems().get(0).startsWith("backend-tls.key: required"), noKey.problems().toString());

        assertEquals("off", ConfigLoader.parse(base + "  client-certificates: off\n", "test.yaml",
                TlsCertificateCheck.INSTANCE).tls().clientCertificates().mode().yamlName());
    }
}
