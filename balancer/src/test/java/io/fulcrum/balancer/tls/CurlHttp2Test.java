package io.fulcrum.balancer.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Curl;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * curl, the client operators try first, against the balancer: HTTP/2 over TLS (ALPN), cleartext
 * HTTP/2 with prior knowledge, and HTTP/1.1 over TLS, each proxied to a real backend. Skipped with
 * a message where curl is not installed (CI installs it), or where it was built without HTTP/2.
 */
class CurlHttp2Test {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void curlSpeaksHttp2OverTlsAndCleartextAndHttp11OverTls() throws Exception {
        Curl.requireInstalled();
        if (!Curl.run("-V").contains("HTTP2")) {
            abort("Skipping: this curl was built without HTTP/2");
        }
        Path certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "localhost.pem", "localhost.key", "ca.pem");
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = fx.balancer(BalancerYaml.create().backend("b1", backend.port()).merge("tls:\n"
                + "  listen: { host: 127.0.0.1, port: 0 }\n"
                + "  cert: " + certs.resolve("localhost.pem") + "\n"
                + "  key: " + certs.resolve("localhost.key") + "\n"));
        String ca = certs.resolve("ca.pem").toString();
        String format = "\n%{http_version} %{http_code}";

        String h2 = Curl.run("--http2", "--cacert", ca, "-w", format,
                "https://localhost:" + balancer.tlsPort() + "/over-tls");
        assertTrue(h2.endsWith("\n2 200"), h2);
        String h2c = Curl.run("--http2-prior-knowledge", "-w", format, "http://127.0.0.1:" + balancer.port() + "/h2c");
        assertTrue(h2c.endsWith("\n2 200"), h2c);
        String h1 = Curl.run("--http1.1", "--cacert", ca, "-w", format,
                "https://localhost:" + balancer.tlsPort() + "/h1-over-tls");
        assertTrue(h1.endsWith("\n1.1 200"), h1);

        List<String> paths = backend.received().stream().map(r -> r.uri()).toList();
        assertEquals(List.of("/over-tls", "/h2c", "/h1-over-tls"), paths);
        assertEquals("https", backend.received().get(0).headers().get("X-Forwarded-Proto"));
        assertEquals("http", backend.received().get(1).headers().get("X-Forwarded-Proto"));
    }
}
