package io.fulcrum.balancer.connections;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.config.BackendProtocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;

/**
 * HTTP/2 connections to backends, per backend address and per event loop, as
 * {@link PerLoopConnectionPool} keeps HTTP/1.1 ones: a request gets a stream (a child channel) on
 * a connection of its own loop that has room under the backend's
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS}, and a new connection is opened when every one is full or
 * going away. {@code h2c} speaks HTTP/2 at once (prior knowledge, RFC 9113 section 3.3); {@code h2}
 * and {@code auto} over TLS offer {@code h2} by ALPN. When an {@code auto} backend chooses
 * {@code http/1.1}, its connection is closed, the choice remembered for its address, and its
 * requests go to the HTTP/1.1 pool from then on ({@link #choseHttp1}).
 *
 * <p>{@link #openStream} is confined to the calling event loop; {@link #retainOnly},
 * {@link #openConnections()} and {@link #closeAll()} are thread-safe.
 */
public final class Http2Connections {
    /** Makes the TLS handler of a new connection, offering {@code h2} by ALPN. */
    @FunctionalInterface
    public interface TlsHandlers {
        SslHandler newHandler(ByteBufAllocator alloc, String host, int port) throws SSLException;
    }

    /** An {@code auto} backend chose HTTP/1.1 by ALPN; the request goes to the HTTP/1.1 pool. */
    public static final class ChoseHttp1 extends SSLException {
        private static final long serialVersionUID = 1L;

        ChoseHttp1() {
            super("backend chose http/1.1 by ALPN");
        }
    }

    private static final AttributeKey<MultiplexedConnection> CONNECTION = AttributeKey.valueOf("fulcrum.h2");

    private final Bootstrap bootstrap;
    private final TlsHandlers tls;
    private final ChannelHandler streamHandler;
    private final long idleNanos;
    private final long pingNanos;
    private final ChannelGroup all = new DefaultChannelGroup("backend-h2-connections", GlobalEventExecutor.INSTANCE);
    private final Set<String> choseHttp1 = ConcurrentHashMap.newKeySet();
    private final FastThreadLocal<Map<String, List<MultiplexedConnection>>> perLoop = new FastThreadLocal<>() {
        @Override
        protected Map<String, List<MultiplexedConnection>> initialValue() {
            return new HashMap<>();
        }
    };

    /**
     * @param bootstrap channel type and socket options (its handler and group are set per connection)
     * @param tls TLS handlers for {@code https://} backends
     * @param streamHandler the pipeline of each stream (the exchange's side of it)
     * @param idleNanos {@code timeouts.backend-idle}: a connection without streams closes after it;
     *     a connection that read nothing for half of it is sent a PING
     */
    public Http2Connections(Bootstrap bootstrap, TlsHandlers tls, ChannelHandler streamHandler, long idleNanos) {
        this.bootstrap = requireNonNull(bootstrap, "bootstrap").clone().resolver(NoopAddressResolverGroup.INSTANCE)
                .option(ChannelOption.AUTO_READ, true);
        this.tls = requireNonNull(tls, "tls");
        this.streamHandler = requireNonNull(streamHandler, "streamHandler");
        this.idleNanos = idleNanos;
        this.pingNanos = Math.max(1, idleNanos / 2);
    }

    /** Whether {@code backend} ({@code auto}) chose HTTP/1.1 by ALPN when last connected. */
    public boolean choseHttp1(Backend backend) {
        return choseHttp1.contains(backend.poolKey());
    }

    /**
     * A new stream to {@code backend} on {@code loop}: on a connection with room, else on a new one.
     * Completes at once on a connection that is ready; fails when no connection can be made, and
     * with {@link ChoseHttp1} when an {@code auto} backend chose HTTP/1.1.
     */
    public Future<Channel> openStream(Backend backend, EventLoop loop) {
        List<MultiplexedConnection> list = perLoop.get().computeIfAbsent(backend.poolKey(), k -> new ArrayList<>(2));
        for (int i = 0; i < list.size(); i++) {
            MultiplexedConnection c = list.get(i);
            if (c.hasRoom()) {
                return c.openStream();
            }
        }
        MultiplexedConnection c = connect(backend, loop, list);
        return c.openStream();
    }

    private MultiplexedConnection connect(Backend backend, EventLoop loop, List<MultiplexedConnection> list) {
        boolean overTls = backend.config().tls();
        boolean auto = backend.config().protocol() == BackendProtocol.AUTO;
        String key = backend.poolKey();
        Promise<Channel> ready = loop.newPromise();
        MultiplexedConnection[] made = new MultiplexedConnection[1];
        MultiplexedConnection c = new MultiplexedConnection(key, ready, streamHandler, idleNanos,
                () -> list.remove(made[0]), stream -> openStream(backend, loop).addListener(f -> pass(f, stream)));
        made[0] = c;
        Bootstrap b = bootstrap.clone(loop).attr(CONNECTION, c).handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) throws SSLException {
                IoUringCloseGuard.install(ch);
                if (overTls) {
                    ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), backend.host(), backend.port()));
                } else {
                    c.start(ch, pingNanos);
                }
            }
        });
        ChannelFuture connect = b.connect(backend.address());
        Channel ch = connect.channel();
        c.attach(ch);
        all.add(ch);
        list.add(c);
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                ready.tryFailure(f.cause());
            } else if (overTls) {
                SslHandler handler = ch.pipeline().get(SslHandler.class);
                handler.handshakeFuture().addListener(h -> handshaken(c, ch, handler, h.cause(), auto));
            }
        });
        return c;
    }

    private void handshaken(MultiplexedConnection c, Channel ch, SslHandler handler, Throwable failure, boolean auto) {
        if (failure != null) {
            ch.close();
            c.ready.tryFailure(failure);
        } else if (ApplicationProtocolNames.HTTP_2.equals(handler.applicationProtocol())) {
            c.start(ch, pingNanos);
        } else if (auto) {
            choseHttp1.add(c.key());
            ch.close();
            c.ready.tryFailure(new ChoseHttp1());
        } else {
            ch.close();
            c.ready.tryFailure(new SSLException("backend did not agree to h2 by ALPN (it chose "
                    + handler.applicationProtocol() + ")"));
        }
    }

    /** Completes {@code to} as {@code from} completed; a channel nobody waits for any more is closed. */
    static void pass(Future<?> from, Promise<Channel> to) {
        if (!from.isSuccess()) {
            to.tryFailure(from.cause());
        } else if (!to.trySuccess((Channel) from.getNow())) {
            ((Channel) from.getNow()).close();
        }
    }

    /**
     * Keeps only connections to {@code keys}: the others take no new streams and close once their
     * streams end. Thread-safe.
     */
    public void retainOnly(Set<String> keys) {
        Set<String> live = Set.copyOf(keys);
        choseHttp1.retainAll(live);
        for (Channel ch : all) {
            MultiplexedConnection c = ch.attr(CONNECTION).get();
            if (c != null && !live.contains(c.key())) {
                ch.eventLoop().execute(c::drain);
            }
        }
    }

    /** HTTP/2 connections open now, on every loop. */
    public int openConnections() {
        return all.size();
    }

    /** Closes every connection and so every stream. */
    public void closeAll() {
        all.close();
    }
}
