package io.fulcrum.balancer.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Routes for HTTP/2 clients (the JDK's client, ALPN h2): the host is {@code :authority}, and
 * redirects and fixed responses go out on the stream like any response.
 */
class Http2RoutesTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void anHttp2RequestIsRoutedByItsAuthorityAndAnsweredByRedirectsAndFixedResponses() throws Exception {
        ScriptedBackend local = fx.backend("local1");
        ScriptedBackend other = fx.backend("other1");
        Balancer balancer = fx.balancer(BalancerYaml.create().merge(TestCertificates.tlsSection(fx.dir())).append("""
                pools:
                  local: { backends: [{ id: local1, url: "http://127.0.0.1:%d" }] }
                  other: { backends: [{ id: other1, url: "http://127.0.0.1:%d" }] }
                routes:
                  - { match: { path: { exact: /old } }, redirect: { status: 301, to: "{scheme}://{host}/new{query}" } }
                  - { match: { path: { exact: /down } }, respond: { status: 503, body: maintenance } }
                  - { match: { host: LOCALHOST }, pool: local }
                default-pool: other
                """.formatted(local.port(), other.port())));
        HttpClient client = HttpClient.newBuilder()
                .sslContext(TestCertificates.trustingTestCa())
                .version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(10)).build();
        String base = "https://localhost:" + balancer.tlsPort();

        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals(200, r.statusCode());
        assertEquals("local1", r.headers().firstValue("X-Backend-Name").orElse(null));

        r = client.send(HttpRequest.newBuilder(URI.create(base + "/old?a=1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(301, r.statusCode());
        assertEquals("https://localhost:" + balancer.tlsPort() + "/new?a=1", r.headers().firstValue("Location").orElse(null));

        r = client.send(HttpRequest.newBuilder(URI.create(base + "/down")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode());
        assertEquals("maintenance", r.body());
        assertEquals(1, local.requests());
        assertEquals(0, other.requests());
    }
}
