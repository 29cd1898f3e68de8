package io.fulcrum.balancer.connections;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Keep-alive connections to backends, pooled per backend address and per event loop (as in Zuul's
 * per-server, per-loop pools). A connection is only ever used and pooled on the event loop that
 * opened it, so a request never crosses threads and the idle lists need no locks.
 *
 * <p>Keys are backend addresses ({@code Backend.poolKey()}). When the set of addresses in use
 * changes ({@link #retainOnly}: a backend removed, or its URL changed by a reload), idle
 * connections to addresses no longer in use are closed, and busy ones are closed when their
 * exchange gives them back instead of being pooled; requests in progress finish.
 *
 * <p>{@link #acquire} and {@link #release} must be called on the loop concerned; they are confined
 * to it. {@link #retainOnly} and {@link #closeAll()} are thread-safe.
 */
public final class PerLoopConnectionPool implements ConnectionPool {
    private static final AttributeKey<String> POOL_KEY = AttributeKey.valueOf("fulcrum.pool.key");
    /**
     * Set on a connection to an {@code https://} backend before its pipeline is built: the host
     * name (unresolved) and port its TLS handshake names and verifies.
     */
    public static final AttributeKey<InetSocketAddress> TLS_PEER = AttributeKey.valueOf("fulcrum.tls.peer");

    private final Bootstrap bootstrap;
    private final int maxIdlePerLoop;
    private final ChannelGroup all = new DefaultChannelGroup("backend-connections", GlobalEventExecutor.INSTANCE);
    /** The addresses in use, or {@code null} before the first {@link #retainOnly} (all are). */
    private volatile Set<String> liveKeys;
    private final FastThreadLocal<Map<String, ArrayDeque<Channel>>> idle = new FastThreadLocal<>() {
        @Override
        protected Map<String, ArrayDeque<Channel>> initialValue() {
            return new HashMap<>();
        }
    };

    /**
     * @param bootstrap channel type, options and handler of backend connections; its group is set
     *     per connect to the caller's event loop
     * @param maxIdlePerLoop idle connections kept per backend and event loop (the waterline); more
     *     are closed on release
     */
    public PerLoopConnectionPool(Bootstrap bootstrap, int maxIdlePerLoop) {
        this.bootstrap = requireNonNull(bootstrap, "bootstrap").clone().resolver(NoopAddressResolverGroup.INSTANCE);
        if (maxIdlePerLoop < 0) {
            throw new IllegalArgumentException("maxIdlePerLoop: " + maxIdlePerLoop + " (expected: >= 0)");
        }
        this.maxIdlePerLoop = maxIdlePerLoop;
    }

    /**
     * An idle connection to {@code backend} opened on {@code loop} (most recently used first), or a
     * new one. A pooled connection comes as an already completed future, so the caller can go on
     * without a listener. When the caller cancels the future while connecting, the connection is
     * pooled once established.
     */
    @Override
    public Future<Channel> acquire(Backend backend, EventLoop loop) {
        Channel idleChannel = poll(backend.poolKey());
        if (idleChannel != null) {
            return loop.newSucceededFuture(idleChannel);
        }
        return connect(backend, loop);
    }

    @Override
    public Bootstrap bootstrap(EventLoop loop) {
        return bootstrap.clone(loop);
    }

    /** A new connection; when the caller cancels the future, it is pooled once established. */
    @Override
    public Future<Channel> connect(Backend backend, EventLoop loop) {
        InetSocketAddress tlsPeer = backend.config().tls()
                ? InetSocketAddress.createUnresolved(backend.host(), backend.port()) : null;
        ChannelFuture connect = connect(backend.poolKey(), backend.address(), loop, tlsPeer);
        Promise<Channel> promise = loop.newPromise();
        connect.addListener(f -> {
            Channel ch = connect.channel();
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            if (tls == null) {
                completed(promise, ch);
                return;
            }
            // An https backend is connected once its handshake (and certificate check) is done.
            tls.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    completed(promise, ch);
                } else {
                    ch.close();
                    promise.tryFailure(h.cause());
                }
            });
        });
        return promise;
    }

    /**
     * Takes an idle connection to {@code key}'s backend opened on the calling loop, or returns
     * {@code null} when there is none. The most recently used connection comes first (LIFO), so
     * surplus connections age out.
     */
    private Channel poll(String key) {
        ArrayDeque<Channel> deque = idle.get().get(key);
        if (deque == null) {
            return null;
        }
        Channel ch;
        while ((ch = deque.pollFirst()) != null) {
            if (ch.isActive()) {
                return ch;
            }
        }
        return null;
    }

    /**
     * Opens a new connection to {@code address} on {@code loop}, remembered under {@code key}. The
     * address must be resolved already: no name is looked up on an event loop (an unresolved one
     * fails the connect at once).
     */
    private void completed(Promise<Channel> promise, Channel ch) {
        if (!promise.trySuccess(ch)) {
            // Given up while connecting: the connection is kept for the next request.
            release(ch);
        }
    }

    private ChannelFuture connect(String key, InetSocketAddress address, EventLoop loop, InetSocketAddress tlsPeer) {
        Bootstrap b = bootstrap.clone(loop).attr(POOL_KEY, key);
        if (tlsPeer != null) {
            b.attr(TLS_PEER, tlsPeer);
        }
        ChannelFuture future = b.connect(address);
        Channel ch = future.channel();
        all.add(ch);
        ch.closeFuture().addListener(f -> forget(ch));
        return future;
    }

    /**
     * Returns a connection whose last exchange ended cleanly. Must be called on the channel's own
     * loop. The caller must not use the channel afterwards.
     */
    @Override
    public void release(Channel ch) {
        String key = ch.attr(POOL_KEY).get();
        Set<String> live = liveKeys;
        if (key == null || !ch.isActive() || (live != null && !live.contains(key))) {
            ch.close();
            return;
        }
        ArrayDeque<Channel> deque = idle.get().computeIfAbsent(key, k -> new ArrayDeque<>());
        if (deque.size() >= maxIdlePerLoop) {
            ch.close();
            return;
        }
        deque.addFirst(ch);
        // Keep a read pending so that a close or stray bytes from the backend are seen while idle.
        ch.read();
    }

    /**
     * Keeps pooling only connections to {@code keys}: idle connections to any other address are
     * closed (each on its own loop), and busy ones will be closed when released. Thread-safe;
     * called on the control thread after each snapshot swap.
     */
    @Override
    public void retainOnly(Set<String> keys) {
        Set<String> live = Set.copyOf(keys);
        liveKeys = live;
        for (Channel ch : all) {
            String key = ch.attr(POOL_KEY).get();
            if (key != null && !live.contains(key)) {
                ch.eventLoop().execute(() -> closeIfIdle(ch, key));
            }
        }
    }

    /** On the channel's loop: closes it if it sits in this loop's idle list. */
    private void closeIfIdle(Channel ch, String key) {
        ArrayDeque<Channel> deque = idle.get().get(key);
        if (deque != null && deque.remove(ch)) {
            ch.close();
        }
    }

    /** Number of backend connections open now, idle or busy, on every loop. */
    @Override
    public int openConnections() {
        return all.size();
    }

    /** Closes every connection, idle or busy. */
    @Override
    public void closeAll() {
        all.close();
    }

    private void forget(Channel ch) {
        if (!ch.eventLoop().inEventLoop()) {
            return;
        }
        String key = ch.attr(POOL_KEY).get();
        ArrayDeque<Channel> deque = key == null ? null : idle.get().get(key);
        if (deque != null) {
            deque.remove(ch);
        }
    }
}
