package io.fulcrum.balancer.connections;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.config.BackendProtocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.Set;

/**
 * The connections of every backend, whatever its {@code protocol}: an HTTP/1.1 backend's come from
 * the {@link PerLoopConnectionPool} (one request at a time per connection), an HTTP/2 backend's
 * are streams of its {@link Http2Connections} (many requests per connection). A try holds either as
 * a channel, through the same calls. The choice is one comparison of the backend's protocol, made
 * before anything else, so HTTP/1.1 backends pay nothing for HTTP/2.
 *
 * <p>{@link #acquire}, {@link #connect} and {@link #release} are confined to the calling event
 * loop; the other methods are thread-safe.
 */
public final class BackendConnections implements ConnectionPool {
    private final ConnectionPool http1;
    private final Http2Connections h2;

    public BackendConnections(ConnectionPool http1, Http2Connections h2) {
        this.http1 = requireNonNull(http1, "http1");
        this.h2 = requireNonNull(h2, "h2");
    }

    @Override
    public Future<Channel> acquire(Backend backend, EventLoop loop) {
        if (backend.config().protocol() == BackendProtocol.HTTP1) {
            return http1.acquire(backend, loop);
        }
        return multiplexed(backend, loop, false);
    }

    /** For an HTTP/2 backend, a new stream; streams are never reused, and GOAWAY already steers them. */
    @Override
    public Future<Channel> connect(Backend backend, EventLoop loop) {
        if (backend.config().protocol() == BackendProtocol.HTTP1) {
            return http1.connect(backend, loop);
        }
        return multiplexed(backend, loop, true);
    }

    private Future<Channel> multiplexed(Backend backend, EventLoop loop, boolean fresh) {
        boolean auto = backend.config().protocol() == BackendProtocol.AUTO;
        if (auto && (!backend.config().tls() || h2.choseHttp1(backend))) {
            // auto is HTTP/1.1 in clear text, and where ALPN chose it.
            return fresh ? http1.connect(backend, loop) : http1.acquire(backend, loop);
        }
        Future<Channel> stream = h2.openStream(backend, loop);
        if (!auto || stream.isDone() && !(stream.cause() instanceof Http2Connections.ChoseHttp1)) {
            return stream;
        }
        // The first connection to an auto backend learns its choice; HTTP/1.1 is connected anew.
        Promise<Channel> out = loop.newPromise();
        stream.addListener(f -> {
            if (f.cause() instanceof Http2Connections.ChoseHttp1) {
                http1.connect(backend, loop).addListener(g -> Http2Connections.pass(g, out));
            } else {
                Http2Connections.pass(stream, out);
            }
        });
        return out;
    }

    /** The HTTP/1.1 connections' bootstrap: a connection of another kind is one request at a time. */
    @Override
    public Bootstrap bootstrap(EventLoop loop) {
        return http1.bootstrap(loop);
    }

    /** An HTTP/2 stream ends with its response (closed, with RST_STREAM if still open); a connection is pooled. */
    @Override
    public void release(Channel ch) {
        if (ch instanceof Http2StreamChannel) {
            ch.close();
        } else {
            http1.release(ch);
        }
    }

    @Override
    public void retainOnly(Set<String> keys) {
        http1.retainOnly(keys);
        h2.retainOnly(keys);
    }

    @Override
    public int openConnections() {
        return http1.openConnections() + h2.openConnections();
    }

    @Override
    public void closeAll() {
        http1.closeAll();
        h2.closeAll();
    }
}
