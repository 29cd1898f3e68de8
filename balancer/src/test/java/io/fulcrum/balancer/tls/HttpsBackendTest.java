package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.LoopbackServer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code https://} backends over real sockets: requests and health checks reach a TLS backend
 * whose certificate the configured CA file vouches for, with the backend's name as SNI; a backend
 * whose certificate is not trusted (the JDK's trust store does not know the test CA) is never
 * sent a request, and its health checks fail. With {@code protocol: auto}, a backend that agrees
 * to no protocol by ALPN (an HTTP/1.1-only server) is spoken to in HTTP/1.1.
 */
class HttpsBackendTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Path certs;
    private LoopbackServer server;
    private final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startTlsBackend() throws Exception {
        certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key");
        SslContext context = SslContextBuilder.forServer(certs.resolve("localhost.pem").toFile(),
                certs.resolve("localhost.key").toFile()).build();
        server = fx.closeAfter(LoopbackServer.start(ch -> ch.pipeline().addLast(context.newHandler(ch.alloc()),
                new HttpServerCodec(), new HttpServerKeepAliveHandler(), new HttpObjectAggregator(65536),
                new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest r) {
                        seen.add(r.uri() + " host=" + r.headers().get("host"));
                        byte[] body = ("secure " + r.uri()).getBytes(StandardCharsets.US_ASCII);
                        DefaultFullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                HttpResponseStatus.OK, ctx.alloc().buffer().writeBytes(body));
                        out.headers().setInt("content-length", body.length);
                        ctx.writeAndFlush(out);
                    }
                })));
    }

    /** The TLS backend by its name, so SNI and the certificate check use {@code localhost}. */
    private BalancerYaml.Backend secure() {
        return new BalancerYaml.Backend("secure", "localhost", server.port(), null, 0, 0, true);
    }

    private static HttpResponse<String> get(Balancer balancer, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + balancer.port() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void requestsAndHealthChecksReachATrustedHttpsBackend() throws Exception {
        Balancer balancer = fx.readyBalancer(BalancerYaml.activeChecks()
                .merge("backend-tls: { ca-file: " + certs.resolve("ca.pem") + " }\n")
                .merge("health: { path: /health }\n")
                .backend(secure()));

        HttpResponse<String> r = get(balancer, "/hello");
        assertEquals(200, r.statusCode());
        assertEquals("secure /hello", r.body());
        // The client's Host is forwarded, as for any backend.
        assertTrue(seen.contains("/hello host=127.0.0.1:" + balancer.port()), seen.toString());
        assertTrue(seen.stream().anyMatch(s -> s.startsWith("/health")), "health checks go over TLS too: " + seen);
    }

    @Test
    void anUntrustedCertificateIsNeverSentARequest() throws Exception {
        Balancer balancer = fx.balancer(BalancerYaml.create().backend(secure()));

        HttpResponse<String> r = get(balancer, "/secret");
        assertEquals(502, r.statusCode(), r.body());
        assertTrue(seen.isEmpty(), "nothing was sent to a server whose certificate failed: " + seen);
        await("held down after the failed handshake").atMost(Fixtures.WAIT)
                .until(() -> balancer.registry().current().byId("secure").state().heldDown(System.nanoTime()));
    }

    @Test
    void protocolAutoFallsBackToHttp1WhenTheBackendOffersNoAlpn() throws Exception {
        Balancer balancer = fx.balancer(BalancerYaml.create().set("protocol", "auto")
                .merge("backend-tls: { ca-file: " + certs.resolve("ca.pem") + " }\n")
                .backend(secure()));

        for (String path : List.of("/first", "/second", "/third")) {
            HttpResponse<String> r = get(balancer, path);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("secure " + path, r.body());
        }
        assertEquals(3, seen.size(), seen.toString());
    }
}
