package io.fulcrum.balancer.connections;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.tls.TestCertificates;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.H2Backend;
import io.fulcrum.testing.H2cClient;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backends spoken to over HTTP/2 ({@code protocol: h2c} and {@code h2}), over real sockets: HTTP/1.1
 * clients served by an HTTP/2 backend and HTTP/2 clients by an HTTP/1.1 backend in the same
 * balancer, bodies and trailers passed on, many requests sharing a connection up to the backend's
 * stream limit and a second connection opened past it.
 */
class Http2BackendsTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private Balancer balancer(H2Backend h2, ScriptedBackend h1) throws Exception {
        return fx.balancer(BalancerYaml.forProxy().append(
                "pools:\n"
                + "  h2:\n"
                + "    protocol: h2c\n"
                + "    backends: [ { id: h2b, url: \"http://127.0.0.1:" + h2.port() + "\" } ]\n"
                + "  h1:\n"
                + "    backends: [ { id: h1b, url: \"http://127.0.0.1:" + h1.port() + "\" } ]\n"
                + "routes:\n"
                + "  - { match: { path: { prefix: /h1/ } }, pool: h1 }\n"
                + "default-pool: h2\n"));
    }

    @Test
    void http1ClientsReachAnH2cBackendAndHttp2ClientsAnHttp1Backend() throws Exception {
        H2Backend h2 = fx.closeAfter(H2Backend.h2c(100));
        ScriptedBackend h1 = fx.backend("h1b");
        Balancer balancer = balancer(h2, h1);
        String base = "http://127.0.0.1:" + balancer.port();

        HttpResponse<String> get = HTTP1.send(HttpRequest.newBuilder(URI.create(base + "/a?q=1")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, get.statusCode());
        assertEquals("GET", get.headers().firstValue("x-method").orElse(null));
        assertEquals("/a?q=1", get.headers().firstValue("x-path").orElse(null));
        assertEquals("127.0.0.1:" + balancer.port(), get.headers().firstValue("x-authority").orElse(null));
        assertEquals("trailers", get.headers().firstValue("x-te").orElse(null));

        byte[] big = new byte[1 << 20];
        Arrays.fill(big, (byte) 'x');
        HttpResponse<byte[]> post = HTTP1.send(HttpRequest.newBuilder(URI.create(base + "/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, post.statusCode());
        assertEquals(Integer.toString(big.length), post.headers().firstValue("x-body-bytes").orElse(null));
        assertEquals(big.length, post.body().length);

        try (H2cClient client = H2cClient.connect(balancer.port())) {
            FullHttpResponse viaH2 = client.get("/b", Fixtures.WAIT);
            try {
                assertEquals(200, viaH2.status().code());
                assertEquals("done", viaH2.trailingHeaders().get("x-end"), "trailers passed end to end");
                assertEquals("0", viaH2.trailingHeaders().get("x-body-bytes"));
            } finally {
                viaH2.release();
            }
            FullHttpResponse toH1 = client.get("/h1/c", Fixtures.WAIT);
            try {
                assertEquals(200, toH1.status().code());
            } finally {
                toH1.release();
            }
        }
        assertEquals(1, h1.requests(), "the HTTP/2 client's request reached the HTTP/1.1 backend");
        assertTrue(h2.connections() <= 2, "one connection per event loop of the balancer, had " + h2.connections());
    }

    @Test
    void requestsShareAConnectionUpToTheStreamLimitAndOpenAnotherPastIt() throws Exception {
        H2Backend h2 = fx.closeAfter(H2Backend.h2c(4));
        ScriptedBackend h1 = fx.backend("h1b");
        Balancer balancer = balancer(h2, h1);
        CountDownLatch release = new CountDownLatch(1);
        h2.hold(release);
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 10; i++) {
            calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port()
                    + "/held/" + i)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(Fixtures.WAIT).until(() -> h2.streams() == 10);
        release.countDown();
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            assertEquals(200, call.get().statusCode());
        }
        assertTrue(h2.connections() >= 3, "10 streams at 4 per connection need 3 connections, had "
                + h2.connections());
        assertTrue(h2.mostOpen() == 10, "all 10 held at once, most open " + h2.mostOpen());
    }

    @Test
    void h2OverTlsIsAgreedByAlpn() throws Exception {
        Path certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key");
        H2Backend h2 = fx.closeAfter(H2Backend.h2(SslContextBuilder.forServer(certs.resolve("localhost.pem").toFile(),
                certs.resolve("localhost.key").toFile()).applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2)).build()));
        Balancer balancer = fx.balancer(BalancerYaml.forProxy()
                .set("backend-tls.ca-file", certs.resolve("ca.pem").toString())
                .set("protocol", "h2")
                .backend(new BalancerYaml.Backend("secure", "localhost", h2.port(), null, 0, 0, true)));
        HttpResponse<String> r = HTTP1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port()
                + "/secure")).POST(HttpRequest.BodyPublishers.ofString("hello", StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("hello", r.body());
        assertEquals("/secure", r.headers().firstValue("x-path").orElse(null));
        assertEquals(1, h2.connections());
    }
}
