package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.connections.ConnectionPool;
import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.fulcrum.testing.WireText;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A {@link ConnectionPool} for tests without sockets: each acquire opens an {@link EmbeddedChannel}
 * with the real backend codec and handler; ports in {@link #refuse} fail at once, ports in
 * {@link #hold} stay pending. Records what was acquired and released. Test thread only.
 */
public final class EmbeddedBackendPool implements ConnectionPool {
    public final List<EmbeddedChannel> opened = new ArrayList<>();
    public final List<String> backends = new ArrayList<>();
    /** Backends a new connection was asked for explicitly (no idle one allowed). */
    final List<String> fresh = new ArrayList<>();
    public final List<Channel> released = new ArrayList<>();
    public final List<Promise<Channel>> pending = new ArrayList<>();
    final Set<Integer> refuse = new HashSet<>();
    public final Set<Integer> hold = new HashSet<>();
    WriteBufferWaterMark waterMark;

    public EmbeddedChannel last() {
        return opened.get(opened.size() - 1);
    }

    /** Writes a raw backend response ({@code |} for CRLF) into {@code backend}. */
    static void respond(EmbeddedChannel backend, String raw) {
        backend.writeInbound(WireText.bytes(raw));
    }

    /** What was written to {@code backend} so far, as text; the buffers are released. */
    static String sent(EmbeddedChannel backend) {
        return WireText.outbound(backend);
    }

    @Override
    public Future<Channel> acquire(Backend backend, EventLoop loop) {
        backends.add(backend.id());
        if (refuse.contains(backend.port())) {
            return ImmediateEventExecutor.INSTANCE.newFailedFuture(new ConnectException("refused"));
        }
        if (hold.contains(backend.port())) {
            Promise<Channel> p = ImmediateEventExecutor.INSTANCE.newPromise();
            pending.add(p);
            return p;
        }
        ChannelHandler[] codec = Http1Codec.client(8192, 65536, 65536);
        EmbeddedChannel ch = new EmbeddedChannel(codec[0], codec[1], new ProxyBackendHandler());
        if (waterMark != null) {
            ch.config().setWriteBufferWaterMark(waterMark);
        }
        opened.add(ch);
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(ch);
    }

    @Override
    public Future<Channel> connect(Backend backend, EventLoop loop) {
        fresh.add(backend.id());
        return acquire(backend, loop);
    }

    /** A plain NIO bootstrap: the embedded backends take no connection of another kind. */
    @Override
    public io.netty.bootstrap.Bootstrap bootstrap(EventLoop loop) {
        return new io.netty.bootstrap.Bootstrap().group(loop).channel(io.netty.channel.socket.nio.NioSocketChannel.class);
    }

    @Override
    public void release(Channel ch) {
        released.add(ch);
    }

    @Override
    public void retainOnly(Set<String> keys) {
    }

    @Override
    public int openConnections() {
        return opened.size();
    }

    @Override
    public void closeAll() {
    }
}
