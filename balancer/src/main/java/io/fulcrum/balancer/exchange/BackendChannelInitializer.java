package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.connections.IoUringCloseGuard;
import io.fulcrum.balancer.connections.PerLoopConnectionPool;
import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.fulcrum.balancer.tls.BackendTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Pipeline of a backend connection: Fulcrum's strict HTTP/1.1 decoder for responses (one whose
 * framing is in doubt fails decoding and the connection is never reused) and encoder for requests,
 * sharing the methods sent so that a response to HEAD is known to have no body; reader-idle
 * detection for pooled connections; and the {@link ProxyBackendHandler}.
 */
public final class BackendChannelInitializer extends ChannelInitializer<Channel> {
    private static final int MAX_RESPONSE_LINE = 8192;
    private static final int MAX_RESPONSE_HEADERS = 65536;
    private static final int MAX_CHUNK = 65536;

    private final long backendIdleNanos;
    private final BackendTls tls;

    public BackendChannelInitializer(long backendIdleNanos, BackendTls tls) {
        this.backendIdleNanos = backendIdleNanos;
        this.tls = tls;
    }

    @Override
    protected void initChannel(Channel ch) throws SSLException {
        IoUringCloseGuard.install(ch);
        InetSocketAddress tlsPeer = ch.attr(PerLoopConnectionPool.TLS_PEER).get();
        if (tlsPeer != null) {
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), tlsPeer.getHostString(), tlsPeer.getPort()));
        }
        Http1Codec.addClient(ch.pipeline(), MAX_RESPONSE_LINE, MAX_RESPONSE_HEADERS, MAX_CHUNK);
        ch.pipeline().addLast("idle", new IdleStateHandler(backendIdleNanos, 0, 0, TimeUnit.NANOSECONDS));
        ch.pipeline().addLast("proxy", new ProxyBackendHandler());
    }
}
