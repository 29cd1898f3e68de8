package io.fulcrum.balancer.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The affinity cookie is Secure when the client came over TLS, and only then. */
class AffinityCookieOverTlsTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void theCookieIsSecureOnTheTlsListenerOnly() throws Exception {
        Path certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key");
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = fx.balancer(BalancerYaml.create().backend("b1", backend.port()).merge(
                "affinity: { cookie: { name: SRV, max-age: 10m } }\n"
                + "tls: { listen: { host: 127.0.0.1, port: 0 }, cert: " + certs.resolve("localhost.pem")
                + ", key: " + certs.resolve("localhost.key") + " }\n"));
        HttpClient client = HttpClient.newBuilder().sslContext(TestCertificates.trustingTestCa())
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

        HttpResponse<String> https = client.send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + balancer.tlsPort() + "/")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> http = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + balancer.port() + "/")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(200, https.statusCode());
        String secure = https.headers().firstValue("set-cookie").orElseThrow();
        assertTrue(secure.startsWith("SRV=") && secure.contains("; Secure") && secure.contains("; Max-Age=600"), secure);
        String plain = http.headers().firstValue("set-cookie").orElseThrow();
        assertFalse(plain.contains("Secure"), plain);
        assertEquals(secure.substring(0, secure.indexOf(';')), plain.substring(0, plain.indexOf(';')),
                "the same backend, the same token");
    }
}
