package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.http1.codec.Http1Decoder;
import io.fulcrum.balancer.http1.codec.Http1Encoder;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;

/**
 * One try of an exchange at one backend, as Envoy's {@code UpstreamRequest} is one try of its
 * router filter: it holds the backend's in-flight slot, gets a connection from the pool, writes the
 * request, reads the response head as far as one try can judge it (a malformed head, an interim
 * 1xx, a status out of range), keeps its own per-try deadline and timings, and ends exactly once
 * with an {@link Outcome} reported to the backend's live state, the pool's queue and its outcome
 * listener. A retry is a new try.
 *
 * <p>The exchange's {@link Forwarder} starts each try and holds what spans them; a try reports
 * only through its {@link Listener}. The backend connection's {@link ProxyBackendHandler} is bound
 * to the try while it holds the connection, so a connection given up never reaches a later try.
 *
 * <p>Not thread safe: confined to the client connection's event loop, which also runs the backend
 * connection (the pool opens it there).
 */
final class UpstreamTry implements FutureListener<Channel> {

    /**
     * What a try tells its exchange. Every method is called on the event loop, only while the try
     * holds its connection (or is getting it), and never after the try ended.
     */
    interface Listener {
        /** The connection is had and bound: the request is written to it ({@link #write}). */
        void onConnected(UpstreamTry upstream, long nowNanos);

        /**
         * The try failed on its own: {@link Outcome#CONNECT_FAILURE} (no connection),
         * {@link Outcome#RESET} (the connection closed under it; the try has let it go), or
         * {@link Outcome#MALFORMED} (the response could not be parsed; {@code detail} says why).
         */
        void onFailed(UpstreamTry upstream, Outcome outcome, String detail);

        /** An interim (1xx) response other than 101; the final one follows. */
        void onInterim(UpstreamTry upstream, HttpResponse interim);

        /**
         * The final response head, or a 101 (Switching Protocols), with a valid status. For a final
         * head the try has taken its first byte, status and reusability already.
         */
        void onHead(UpstreamTry upstream, HttpResponse head);

        /** A part of the final response's body; ownership passes to the listener. */
        void onBody(UpstreamTry upstream, HttpContent part);

        /** The end of one read of the backend connection. */
        void onReadComplete(UpstreamTry upstream);

        /** The backend connection can take more bytes again. */
        void onWritable(UpstreamTry upstream);

        /** The backend connection read nothing for {@code backend-idle}. */
        void onIdle(UpstreamTry upstream);

        /** Bytes the backend sent through a tunnel; ownership passes to the listener. */
        void onTunnelData(UpstreamTry upstream, ByteBuf data);

        /** The backend shut its side of a tunnel down (its FIN came). */
        void onTunnelInputShutdown(UpstreamTry upstream);
    }

    private final Backend backend;
    private final BackendPool pool;
    private final ProxyContext proxy;
    private final Listener listener;
    private final long startNanos;
    /** The connection being acquired, until it is attached or the try ends. */
    private Future<Channel> pending;
    private Channel channel;
    private ProxyBackendHandler handler;
    /** Whether any byte of the request was written to this backend. */
    private boolean reached;
    /** When the request was completely written, or 0 before. */
    private long sentNanos;
    private long firstByteNanos;
    /** When the response head is due by the per-try timeout, or 0 when none applies. */
    private long deadline;
    /** Inside an interim (1xx) response, which ends with its own last part. */
    private boolean interim;
    /** Whether the backend allows the connection to be reused after the response. */
    private boolean reusable;
    private int status;
    /** Time to get the connection (about 0 for a pooled one), or -1 while none is had. */
    private long connectNanos = -1;
    private boolean ended;

    /**
     * @param backend the chosen backend, whose in-flight slot the caller took for this try
     * @param pool the pool it was chosen from (its queue hears of the slot freed, its listener of the outcome)
     * @param startNanos when the try started, on {@code proxy}'s clock
     */
    UpstreamTry(Backend backend, BackendPool pool, ProxyContext proxy, Listener listener, long startNanos) {
        this.backend = backend;
        this.pool = pool;
        this.proxy = proxy;
        this.listener = listener;
        this.startNanos = startNanos;
    }

    Backend backend() {
        return backend;
    }

    /** The backend's status code, or 0 before a final head (101 for a tunnel). */
    int status() {
        return status;
    }

    /** When the final response head (or the 101) came, or 0 before. */
    long firstByteNanos() {
        return firstByteNanos;
    }

    /** Whether any byte of the request reached the backend, so that a retry would send it again. */
    boolean reached() {
        return reached;
    }

    /** When the response head is due by this try's own timeout, or 0 when none applies. */
    long deadline() {
        return deadline;
    }

    /**
     * Whether the backend answered nothing since this try's request was sent: hung, not slow.
     * Judged before the try ends, which counts as an answer.
     */
    boolean backendStalled(long nowNanos) {
        return sentNanos != 0 && backend.state().stalledNanos(nowNanos) >= nowNanos - sentNanos;
    }

    // ---- the connection ----

    /**
     * Gets a connection on {@code loop}: an idle pooled one is attached at once (no listener, no
     * extra turn of the loop, no time spent getting it) and {@link Listener#onConnected} or
     * {@link Listener#onFailed} runs before this returns.
     *
     * @param fresh open a new connection instead of reusing an idle one
     * @return {@code true} while a new connection is still being made
     */
    boolean connect(EventLoop loop, boolean fresh) {
        Future<Channel> connection = fresh ? proxy.pool().connect(backend, loop) : proxy.pool().acquire(backend, loop);
        if (connection.isDone()) {
            connected(connection, startNanos);
            return false;
        }
        pending = connection;
        // This object is the listener, to save an allocation per try.
        connection.addListener(this);
        return true;
    }

    /** Completion of a new connection. */
    @Override
    public void operationComplete(Future<Channel> connection) {
        if (pending != connection) {
            // Given up while connecting; the pool keeps the connection if it was made.
            return;
        }
        connected(connection, proxy.clock().nanoTime());
    }

    private void connected(Future<Channel> connection, long nowNanos) {
        pending = null;
        if (!connection.isSuccess()) {
            listener.onFailed(this, Outcome.CONNECT_FAILURE, null);
            return;
        }
        connectNanos = nowNanos - startNanos;
        channel = connection.getNow();
        handler = (ProxyBackendHandler) channel.pipeline().last();
        handler.bind(this);
        listener.onConnected(this, nowNanos);
    }

    /** Whether a connection is attached (connected and not yet given up). */
    boolean connected() {
        return channel != null;
    }

    /** Whether the connection is attached and below its write watermark. */
    boolean writable() {
        return channel != null && channel.isWritable();
    }

    /** Unbinds the connection and returns it (or {@code null}); the caller pools or closes it. */
    private Channel detach() {
        Channel ch = channel;
        if (handler != null) {
            handler.unbind();
            handler = null;
        }
        channel = null;
        return ch;
    }

    /** Lets the connection go, if any, and closes it (its framing is lost, or nobody wants the rest). */
    void close() {
        Channel ch = detach();
        if (ch != null) {
            ch.close();
        }
    }

    /**
     * Lets the connection go after a response that ended: back to the pool when {@code reuse} and
     * the backend allowed it, else closed.
     */
    void release(boolean reuse) {
        Channel ch = detach();
        if (reuse && reusable) {
            proxy.pool().release(ch);
        } else {
            ch.close();
        }
    }

    // ---- the request ----

    /**
     * Writes the request head and what the client sent of its body so far.
     *
     * @param flush flush now; inside a client read the flush waits for its end (one write for head
     *     and body, and nothing sent at all if the same read turns out to be malformed)
     */
    void write(HttpRequest request, ReplayBuffer body, boolean flush) {
        Channel ch = channel;
        reached = true;
        // Retained: a retry sends the same head again; the last owner releases nothing (no buffer).
        ch.write(request, ch.voidPromise());
        body.writeTo(ch);
        if (flush) {
            ch.flush();
        }
    }

    /** Writes the body parts the client sent since. */
    void writeBody(ReplayBuffer body) {
        body.writeTo(channel);
    }

    /** Flushes what was written to the backend, if the connection is attached. */
    void flush() {
        if (channel != null) {
            channel.flush();
        }
    }

    /** Asks the backend connection for its next read, if it is attached. */
    void read() {
        if (channel != null) {
            channel.read();
        }
    }

    /**
     * The request is completely written: latency counts from here.
     *
     * @return {@code false} when it was already
     */
    boolean sent(long nowNanos) {
        if (sentNanos != 0) {
            return false;
        }
        sentNanos = nowNanos;
        return true;
    }

    /** Starts this try's own timeout: its response head is due {@code perTryNanos} after the request was sent. */
    long startPerTryTimeout(long perTryNanos) {
        deadline = sentNanos + perTryNanos;
        return deadline;
    }

    // ---- the response ----

    /** A response head from the backend, as the codec decoded it. */
    void onResponseHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            listener.onFailed(this, Outcome.MALFORMED, response.decoderResult().cause().getMessage());
            return;
        }
        int code = response.status().code();
        if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            if (code == 101) {
                // Whether the switch was asked for is the exchange's to judge (switchProtocols).
                listener.onHead(this, response);
                return;
            }
            interim = true;
            listener.onInterim(this, response);
            return;
        }
        if (code > 599 || code < 100) {
            // RFC 9110 section 15: a status is 100 to 599, else malformed (the codec refuses other than 3 digits).
            listener.onFailed(this, Outcome.MALFORMED, "status code " + code + " out of range");
            return;
        }
        if (firstByteNanos == 0) {
            firstByteNanos = proxy.clock().nanoTime();
        }
        status = code;
        // The head came: the per-try timeout is over, whatever follows.
        deadline = 0;
        reusable = HttpUtil.isKeepAlive(response);
        listener.onHead(this, response);
    }

    /** A part of a response body; ownership passes here. */
    void onResponseContent(HttpContent content) {
        if (interim) {
            // The end of a 1xx interim response; the final response follows.
            content.release();
            if (content instanceof LastHttpContent) {
                interim = false;
            }
            return;
        }
        listener.onBody(this, content);
    }

    void onReadComplete() {
        listener.onReadComplete(this);
    }

    void onWritable() {
        listener.onWritable(this);
    }

    void onIdle() {
        listener.onIdle(this);
    }

    /** The connection closed under this try ({@code refused}: an HTTP/2 stream the backend never processed). */
    void onClosed(boolean refused) {
        reached &= !refused;
        detach();
        listener.onFailed(this, Outcome.RESET, null);
    }

    // ---- a switched protocol ----

    /**
     * The backend switched protocols, as the request asked: the try takes the 101 as its answer and
     * the connection stops encoding HTTP. A FIN from the backend will end its direction only
     * ({@link Listener#onTunnelInputShutdown}), not the tunnel. The try holds its backend's in-flight
     * slot until the tunnel ends, so a backend's load counts its open tunnels. Call
     * {@link #openTunnel()} once the 101 is written to the client.
     */
    void switchProtocols(long nowNanos) {
        firstByteNanos = nowNanos;
        status = 101;
        deadline = 0;
        reusable = false;
        channel.pipeline().remove(Http1Encoder.class);
        channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    }

    /**
     * The 101 is written to the client: the backend's decoder goes. Removed, it hands on at once the
     * bytes it holds past the 101 (a server may send frames right after its handshake, RFC 6455
     * section 4.2.2, and they often share a read with it), and those are relayed as they come:
     * removed before the 101 is written, they would reach the client ahead of it.
     */
    void openTunnel() {
        Http1Decoder decoder = channel.pipeline().get(Http1Decoder.class);
        if (decoder != null) {
            channel.pipeline().remove(decoder);
        }
    }

    void onTunnelData(ByteBuf data) {
        listener.onTunnelData(this, data);
    }

    void onTunnelInputShutdown() {
        listener.onTunnelInputShutdown(this);
    }

    /** Writes bytes the client sent through the tunnel; flushed by {@link #flush()}. */
    void relay(ByteBuf data) {
        channel.write(data, channel.voidPromise());
    }

    /** The client sent its last tunnel byte: the backend gets a FIN once what was relayed is out. */
    void shutdownOutput() {
        HalfClose.shutdownOutput(channel);
    }

    /** Both sides of the tunnel sent all: the connection closes once what was relayed is out. */
    void closeAfterWrites() {
        HalfClose.closeAfterWrites(detach());
    }

    // ---- the end ----

    /**
     * Ends this try: a connection still being made is left to the pool, the backend's in-flight
     * slot is freed (the oldest request waiting in the pool's queue gets a turn) and its live state
     * and the pool's outcome listener hear how it went. Latency runs from the request completely
     * sent to the response's first byte, so neither connecting nor a slow client's upload counts
     * against the backend. The connection itself is the caller's to {@link #close()} or
     * {@link #release(boolean)}.
     *
     * @return the try for the access log, or {@code null} when it had ended already
     */
    RequestRecord.Try end(Outcome outcome, long nowNanos) {
        if (pending != null) {
            // Still connecting: the pool keeps the connection if it is made.
            Future<Channel> connection = pending;
            pending = null;
            connection.cancel(false);
        }
        if (ended) {
            return null;
        }
        ended = true;
        long end = firstByteNanos != 0 ? firstByteNanos : nowNanos;
        backend.state().onRequestEnd(end - (sentNanos != 0 ? sentNanos : startNanos), outcome, nowNanos);
        pool.queue().slotFreed();
        pool.outcomeListener().onOutcome(backend, outcome);
        return new RequestRecord.Try(backend.id(), outcome.label(), connectNanos,
                firstByteNanos != 0 && sentNanos != 0 ? firstByteNanos - sentNanos : -1, status);
    }

    @Override
    public String toString() {
        return "try at " + backend.id() + (channel == null ? "" : " on " + channel.id());
    }
}
