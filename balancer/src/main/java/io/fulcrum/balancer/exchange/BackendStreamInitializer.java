package io.fulcrum.balancer.exchange;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Pipeline of one HTTP/2 stream to a backend (a child channel of its multiplexed connection): the
 * {@link BackendStreamCodec}, which makes its frames the HTTP messages an {@link UpstreamTry}
 * drives, reader-idle detection as on an HTTP/1.1 connection, and the {@link ProxyBackendHandler}.
 * Shared by every stream; thread-safe.
 */
@ChannelHandler.Sharable
public final class BackendStreamInitializer extends ChannelInitializer<Channel> {
    private final long backendIdleNanos;

    public BackendStreamInitializer(long backendIdleNanos) {
        this.backendIdleNanos = backendIdleNanos;
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.pipeline().addLast("h2-stream", new BackendStreamCodec());
        ch.pipeline().addLast("idle", new IdleStateHandler(backendIdleNanos, 0, 0, TimeUnit.NANOSECONDS));
        ch.pipeline().addLast("proxy", new ProxyBackendHandler());
    }
}
