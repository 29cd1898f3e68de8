package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.config.TimeoutsConfig;
import io.fulcrum.balancer.http1.Http1Codec;
import io.fulcrum.balancer.tls.TlsTerminator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The client-side pipeline, assembled only here: Fulcrum's strict HTTP/1.1 decoder and encoder
 * with the configured limits, client-idle detection, and the proxy handler, which also decides
 * when a connection closes and records each request's metrics. Pipelined requests are read no
 * faster than they are answered (reading is explicit), so one read of at most 64 KiB bounds what a
 * connection queues.
 * Connections past {@code max-connections} get a 503 and are closed at once.
 */
public final class ProxyServerInitializer extends ChannelInitializer<SocketChannel> {
    private static final byte[] OVERLOADED = ("HTTP/1.1 503 Service Unavailable\r\n"
            + "Content-Type: application/json\r\nContent-Length: 33\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
            + "{\"error\":\"too many connections\"}\n").getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_CHUNK = 65536;

    private final ProxyContext proxy;
    private final int maxHeaderBytes;
    private final int maxUriBytes;
    private final long clientIdleNanos;
    private final TlsTerminator tls;
    private final long tunnelIdleNanos;

    public ProxyServerInitializer(ProxyContext proxy, int maxHeaderBytes, int maxUriBytes, long clientIdleNanos) {
        this(proxy, maxHeaderBytes, maxUriBytes, clientIdleNanos, TimeoutsConfig.DEFAULT_TUNNEL_IDLE.toNanos(), null);
    }

    /**
     * @param tls the HTTPS listener's certificates, which put TLS first in every pipeline, or
     *     {@code null} for cleartext
     */
    public ProxyServerInitializer(ProxyContext proxy, int maxHeaderBytes, int maxUriBytes, long clientIdleNanos,
            long tunnelIdleNanos, TlsTerminator tls) {
        this.proxy = proxy;
        this.tunnelIdleNanos = tunnelIdleNanos;
        this.tls = tls;
        this.maxHeaderBytes = maxHeaderBytes;
        this.maxUriBytes = maxUriBytes;
        this.clientIdleNanos = clientIdleNanos;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        if (!proxy.admit(ch)) {
            ch.writeAndFlush(Unpooled.wrappedBuffer(OVERLOADED)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (tls != null) {
            ch.pipeline().addLast("tls", tls.newHandler());
        }
        Http1Codec.addServer(ch.pipeline(), maxUriBytes, maxHeaderBytes, MAX_CHUNK)
                .addLast("idle", new IdleStateHandler(clientIdleNanos, 0, 0, TimeUnit.NANOSECONDS));
        ch.pipeline().addLast("proxy", new ProxyFrontendHandler(proxy, tls != null, tunnelIdleNanos));
    }
}
