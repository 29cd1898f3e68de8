package io.fulcrum.balancer.connections;

import io.fulcrum.balancer.balancing.Backend;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.util.Set;

/**
 * Connections to backends, kept open between requests. The proxy acquires a connection for each
 * try and gives it back when the response ended cleanly; connections are keyed by backend address
 * ({@link Backend#poolKey()}) and live on the event loop they were opened on.
 *
 * <p>{@link #acquire} and {@link #release} are called on the loop concerned; the other methods are
 * thread-safe.
 */
public interface ConnectionPool {
    /**
     * A connection to {@code backend} on {@code loop}: an idle one (as an already completed future)
     * or a new one. The future fails when the connection cannot be made.
     */
    Future<Channel> acquire(Backend backend, EventLoop loop);

    /** A new connection to {@code backend} on {@code loop}, never an idle one. */
    Future<Channel> connect(Backend backend, EventLoop loop);

    /**
     * Gives back a connection whose last exchange ended cleanly; the caller must not use it
     * afterwards. A connection that is closed, or whose address is no longer in use, is closed.
     */
    void release(Channel ch);

    /**
     * A bootstrap of this pool's transport and options on {@code loop}, for a connection that the
     * pool does not keep (a question to an auth service); the caller sets its handler and options.
     */
    Bootstrap bootstrap(EventLoop loop);

    /** Keeps pooling only connections to these addresses; idle ones to others are closed. */
    void retainOnly(Set<String> keys);

    /** Backend connections open now, idle or busy. */
    int openConnections();

    /** Closes every connection, idle or busy. */
    void closeAll();
}
