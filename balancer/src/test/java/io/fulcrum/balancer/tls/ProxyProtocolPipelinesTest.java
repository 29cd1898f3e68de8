package io.fulcrum.balancer.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A PROXY header from a trusted edge in front of the other pipelines: before the TLS handshake on
 * the HTTPS listener, and before HTTP/2's preface on the cleartext port, where every stream's
 * request carries the header's address.
 */
class ProxyProtocolPipelinesTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Path certs;
    private SSLContext trustingTestCa;

    @BeforeEach
    void copyCertificates() throws Exception {
        certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key");
        trustingTestCa = TestCertificates.clientContext(TestCertificates.testCa());
    }

    private Balancer balancer(ScriptedBackend backend) throws Exception {
        return fx.balancer(BalancerYaml.forProxy().backends(backend)
                .merge("tls:\n  listen: { host: 127.0.0.1, port: 0 }\n  cert: " + certs.resolve("localhost.pem")
                        + "\n  key: " + certs.resolve("localhost.key") + "\n")
                .merge("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: any }"));
    }

    /** Sends {@code proxyHeader} in clear, then a request over TLS on the same connection; the status line. */
    private String getOverTls(int port, String proxyHeader) throws Exception {
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(10_000);
            if (proxyHeader != null) {
                OutputStream out = plain.getOutputStream();
                out.write(proxyHeader.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            try (SSLSocket tls = (SSLSocket) trustingTestCa.getSocketFactory().createSocket(plain, "localhost", port,
                    true)) {
                SSLParameters params = tls.getSSLParameters();
                params.setApplicationProtocols(new String[] {"http/1.1"});
                tls.setSSLParameters(params);
                tls.startHandshake();
                tls.getOutputStream().write("GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
                return new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII))
                        .readLine();
            }
        }
    }

    @Test
    void everyHttp2StreamCarriesTheAddressOfTheHeaderBeforeThePreface() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = balancer(backend);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(HAProxyMessageEncoder.INSTANCE).connect("127.0.0.1", b.port()).sync().channel();
            // The header first; the HTTP/2 codec, added next, sends its preface as it is added.
            connection.writeAndFlush(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                    HAProxyProxiedProtocol.TCP4, "192.0.2.77", "10.0.0.1", 41000, 80)).sync();
            connection.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            for (int i = 0; i < 2; i++) {
                CompletableFuture<Integer> status = new CompletableFuture<>();
                Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                                        new HttpObjectAggregator(1 << 20),
                                        new SimpleChannelInboundHandler<FullHttpResponse>() {
                                            @Override
                                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                                status.complete(r.status().code());
                                            }
                                        });
                            }
                        }).open().sync().getNow();
                DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/h2c");
                request.headers().set("host", "127.0.0.1:" + b.port());
                request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
                stream.writeAndFlush(request).sync();
                assertEquals(200, status.get(20, TimeUnit.SECONDS));
                List<HttpRequest> seen = backend.received();
                assertEquals("192.0.2.77", seen.get(seen.size() - 1).headers().get("X-Real-IP"), "stream " + i);
            }
            connection.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void theHeaderBeforeTheHandshakeNamesTheClient() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = balancer(backend);
        assertEquals("HTTP/1.1 200 OK", getOverTls(b.tlsPort(), "PROXY TCP4 203.0.113.60 127.0.0.1 50000 443\r\n"));
        List<HttpRequest> seen = backend.received();
        HttpRequest last = seen.get(seen.size() - 1);
        assertEquals("203.0.113.60", last.headers().get("X-Real-IP"));
        assertEquals("203.0.113.60", last.headers().get("X-Forwarded-For"));
        assertEquals("https", last.headers().get("X-Forwarded-Proto"));

        // Without a header the handshake goes on as usual and the peer is the client.
        assertEquals("HTTP/1.1 200 OK", getOverTls(b.tlsPort(), null));
        seen = backend.received();
        assertEquals("127.0.0.1", seen.get(seen.size() - 1).headers().get("X-Real-IP"));
        assertTrue(b.proxy().proxyHeadersRefused() == 0);
    }
}
