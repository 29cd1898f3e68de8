package io.fulcrum.balancer.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Pipeline of a backend connection: the HTTP/1.1 client codec ({@link BackendHttpCodec}) with strict parsing (a response
 * whose framing is in doubt fails decoding and the connection is never reused), reader-idle
 * detection for pooled connections, and the {@link ProxyBackendHandler}.
 */
final class BackendChannelInitializer extends ChannelInitializer<Channel> {
    private static final int MAX_RESPONSE_LINE = 8192;
    private static final int MAX_RESPONSE_HEADERS = 65536;
    private static final int MAX_CHUNK = 65536;

    private final long backendIdleNanos;

    BackendChannelInitializer(long backendIdleNanos) {
        this.backendIdleNanos = backendIdleNanos;
    }

    @Override
    protected void initChannel(Channel ch) {
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_RESPONSE_LINE)
                .setMaxHeaderSize(MAX_RESPONSE_HEADERS)
                .setMaxChunkSize(MAX_CHUNK)
                .setStrictLineParsing(true)
                .setValidateHeaders(true);
        ch.pipeline().addLast("codec", new BackendHttpCodec(decoder));
        ch.pipeline().addLast("idle", new IdleStateHandler(backendIdleNanos, 0, 0, TimeUnit.NANOSECONDS));
        ch.pipeline().addLast("proxy", new ProxyBackendHandler());
    }
}
