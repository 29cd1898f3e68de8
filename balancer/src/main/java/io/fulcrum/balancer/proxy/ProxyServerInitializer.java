package io.fulcrum.balancer.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The client-side pipeline, assembled only here: the HTTP/1.1 server codec with strict parsing
 * and the configured limits, keep-alive handling, client-idle detection and the
 * proxy handler.
 * Connections past {@code max-connections} get a 503 and are closed at once.
 */
public final class ProxyServerInitializer extends ChannelInitializer<SocketChannel> {
    private static final byte[] OVERLOADED = ("HTTP/1.1 503 Service Unavailable\r\n"
            + "Content-Type: application/json\r\nContent-Length: 33\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
            + "{\"error\":\"too many connections\"}\n").getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_CHUNK = 65536;
    /**
     * Pipelined requests decoded ahead of their responses before the decoder refuses more. One
     * read is at most 64 KiB, so this bounds what a connection can queue.
     */
    private static final int MAX_PIPELINE_DEPTH = 1024;

    private final ProxyContext proxy;
    private final int maxHeaderBytes;
    private final int maxUriBytes;
    private final long clientIdleNanos;

    public ProxyServerInitializer(ProxyContext proxy, int maxHeaderBytes, int maxUriBytes, long clientIdleNanos) {
        this.proxy = proxy;
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
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(maxUriBytes)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(MAX_CHUNK)
                .setStrictLineParsing(true)
                .setValidateHeaders(true);
        ch.pipeline()
                .addLast("obs-fold", new ObsFoldRejectingHandler())
                .addLast("codec", new HttpServerCodec(decoder, MAX_PIPELINE_DEPTH))
                .addLast("keep-alive", new HttpServerKeepAliveHandler())
                .addLast("idle", new IdleStateHandler(clientIdleNanos, 0, 0, TimeUnit.NANOSECONDS));
        ch.pipeline().addLast("proxy", new ProxyFrontendHandler(proxy));
    }
}
