package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.Outcome;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * One try of an exchange at one backend: the backend and its in-flight slot, the connection
 * (pending, then attached), what was sent and received, and its timings. A retry is a new
 * attempt; an attempt ends exactly once, with an {@link Outcome} reported to the backend's live
 * state.
 *
 * <p>Not thread safe: confined to the client connection's event loop.
 */
final class Attempt {
    final Backend backend;
    final long startNanos;
    /** The connection being acquired, until it is attached or the attempt ends. */
    Future<Channel> pending;
    Channel channel;
    ProxyBackendHandler handler;
    /** Whether any byte of the request was written to this backend. */
    boolean reached;
    /** When the request was completely written, or 0 before. */
    long sentNanos;
    long firstByteNanos;
    /** When the response head is due by the per-try timeout, or 0 when none applies. */
    long deadline;
    /** Inside an interim (1xx) response, which ends with its own last part. */
    boolean interim;
    /** Whether the backend allows the connection to be reused after the response. */
    boolean reusable;
    int status;
    /** Time to get the connection (about 0 for a pooled one), or -1 while none is had. */
    long connectNanos = -1;
    private boolean ended;

    Attempt(Backend backend, long startNanos) {
        this.backend = backend;
        this.startNanos = startNanos;
    }

    /** Binds the acquired connection's backend handler to {@code exchange}. */
    void attach(Channel ch, Exchange exchange) {
        pending = null;
        channel = ch;
        handler = (ProxyBackendHandler) ch.pipeline().last();
        handler.bind(exchange);
    }

    /** Whether a connection is attached (connected and not yet given up). */
    boolean connected() {
        return channel != null;
    }

    /** Unbinds the connection and returns it (or {@code null}); the caller pools or closes it. */
    Channel detach() {
        Channel ch = channel;
        if (handler != null) {
            handler.unbind();
            handler = null;
        }
        channel = null;
        return ch;
    }

    /**
     * Ends this try: frees the backend's in-flight slot and feeds its live state. Latency runs from
     * the request completely sent to the response's first byte, so neither connecting nor a slow
     * client's upload counts against the backend.
     *
     * @return {@code false} when the attempt had ended already
     */
    boolean end(Outcome outcome, long nowNanos) {
        if (ended) {
            return false;
        }
        ended = true;
        long end = firstByteNanos != 0 ? firstByteNanos : nowNanos;
        backend.state().onRequestEnd(end - (sentNanos != 0 ? sentNanos : startNanos), outcome, nowNanos);
        return true;
    }
}
