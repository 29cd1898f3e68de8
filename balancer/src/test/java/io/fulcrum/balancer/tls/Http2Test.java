package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.H2cClient;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HTTP/2 from clients over real sockets: the JDK's client over TLS (ALPN h2), many streams on one
 * connection, routes, request bodies, cleartext prior knowledge with Netty's HTTP/2 client, HTTP/1.1
 * still spoken on both ports, and a client that opens and resets streams in a flood is cut off
 * while the balancer keeps serving others.
 */
class Http2Test {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final SSLContext trustingTestCa = TestCertificates.trustingTestCa();

    private Balancer balancer(ScriptedBackend backend) throws Exception {
        return fx.balancer(BalancerYaml.create().backend("b1", backend.port())
                .merge(TestCertificates.tlsSection(fx.dir())));
    }

    private HttpClient h2Client() {
        return HttpClient.newBuilder().sslContext(trustingTestCa).version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    @Test
    void manyStreamsOverOneTlsConnectionAreEachProxied() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = balancer(backend);
        HttpClient client = h2Client();
        String base = "https://localhost:" + balancer.tlsPort();

        // The first request opens the connection; the JDK's client then multiplexes on it.
        assertEquals(200, client.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/first")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            answers.add(client.sendAsync(java.net.http.HttpRequest.newBuilder(URI.create(base + "/s/" + i))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> a : answers) {
            HttpResponse<String> r = a.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode());
            assertEquals(HttpClient.Version.HTTP_2, r.version());
        }
        assertEquals(21, backend.requests());
        HttpRequest seen = backend.received().get(0);
        assertEquals("https", seen.headers().get("X-Forwarded-Proto"));
        assertEquals("localhost:" + balancer.tlsPort(), seen.headers().get("Host"), ":authority becomes Host");
        assertNull(seen.headers().get(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text()));
        assertEquals(1, balancer.proxy().clientConnections(), "one connection carried every stream");
    }

    /**
     * Routes for HTTP/2 clients: the host is {@code :authority}, and redirects and fixed responses go
     * out on the stream like any response.
     */
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
        HttpClient client = h2Client();
        String base = "https://localhost:" + balancer.tlsPort();

        HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals(200, r.statusCode());
        assertEquals("local1", r.headers().firstValue("X-Backend-Name").orElse(null));

        r = client.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/old?a=1")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(301, r.statusCode());
        assertEquals("https://localhost:" + balancer.tlsPort() + "/new?a=1", r.headers().firstValue("Location").orElse(null));

        r = client.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/down")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode());
        assertEquals("maintenance", r.body());
        assertEquals(1, local.requests());
        assertEquals(0, other.requests());
    }

    @Test
    void requestBodiesStreamThroughAStream() throws Exception {
        ScriptedBackend backend = ScriptedBackend.echo("echo");
        fx.closeAfter(backend);
        Balancer balancer = balancer(backend);
        byte[] body = new byte[300_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        HttpResponse<String> r = h2Client().send(java.net.http.HttpRequest.newBuilder(
                URI.create("https://localhost:" + balancer.tlsPort() + "/upload"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertTrue(r.body().contains("\"bodyLength\":300000"), r.body());
    }

    @Test
    void http11StillWorksOnTheTlsPortForClientsWithoutH2() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = balancer(backend);
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(trustingTestCa).version(HttpClient.Version.HTTP_1_1)
                .build().send(java.net.http.HttpRequest.newBuilder(URI.create("https://localhost:" + balancer.tlsPort() + "/one"))
                        .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals(HttpClient.Version.HTTP_1_1, r.version());
    }

    @Test
    void cleartextPriorKnowledgeIsServedBesideHttp11() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = balancer(backend);
        try (H2cClient h2c = H2cClient.connect(balancer.port())) {
            FullHttpResponse r = h2c.get("/h2c", Duration.ofSeconds(20));
            try {
                assertEquals(200, r.status().code());
            } finally {
                ReferenceCountUtil.release(r);
            }
        }
        assertEquals("http", backend.received().get(0).headers().get("X-Forwarded-Proto"));

        HttpResponse<String> plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/h1")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, plain.statusCode(), "HTTP/1.1 on the same port");
    }

    @Test
    void aClientResettingStreamsInAFloodIsCutOff() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        backend.delay(Duration.ofSeconds(5));
        Balancer balancer = balancer(backend);
        H2cClient h2c = H2cClient.connect(balancer.port());
        fx.closeAfter(h2c);
        Channel connection = h2c.connection();
        // Open a stream and cancel it at once, again and again (CVE-2023-44487).
        for (int i = 0; i < 1000 && connection.isActive(); i++) {
            io.netty.util.concurrent.Future<Http2StreamChannel> opened = h2c.openStream(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                }
            }).await();
            if (!opened.isSuccess()) {
                break;
            }
            Http2StreamChannel stream = opened.getNow();
            DefaultHttp2Headers headers = new DefaultHttp2Headers();
            headers.method("GET").path("/flood/" + i).scheme("http").authority("127.0.0.1");
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false));
            stream.close();
        }
        await("the flooding connection is closed").atMost(Fixtures.WAIT).until(() -> !connection.isActive());
        // Cut off after a bounded number of resets (Netty's limit: 200 in 30 s), so the flood costs the
        // backends a bounded number of requests, not one per stream sent.
        assertTrue(backend.requests() <= 250, "the flood reached the backend " + backend.requests() + " times");

        backend.delay(Duration.ZERO);
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/after"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), "other clients are still served");
        await("cancelled requests released their backends").atMost(Fixtures.WAIT)
                .until(() -> balancer.registry().current().byId("b1").state().inFlight() == 0);
    }
}
