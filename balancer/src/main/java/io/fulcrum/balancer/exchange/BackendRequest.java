package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.http1.codec.Upgrades;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The request as each try sends it: its head, rewritten for the backends ({@link HeaderRules}),
 * and its body as the client sends it, held in a {@link ReplayBuffer} for another try. What the
 * exchange needs to know of the client's request is read when it is made, before the rewrite.
 *
 * <p>Not thread safe: confined to the client connection's event loop.
 */
final class BackendRequest {
    private final HttpRequest head;
    private final ReplayBuffer body;
    private final long maxBodyBytes;
    /** The method (or an Idempotency-Key) allows sending the request again after a backend saw it. */
    private final boolean repeatable;
    private final boolean bodyless;
    /** A gRPC call ({@link Grpc#is}). */
    private final boolean grpc;
    /** The call's {@code grpc-timeout}, or 0. */
    private final long grpcTimeoutNanos;
    /** The protocols an upgrade request asks for ({@link Upgrades}), or {@code null}. */
    private final String upgrade;
    private boolean hostFromBackend;
    /** The copy of this request to the route's shadow pool, or {@code null}. */
    private Mirror mirror;

    /**
     * @param mayUpgrade whether the client connection can switch protocols, so an upgrade request is one
     * @param grpc the request is a gRPC call (told once, by the intake, on HTTP/2 connections only)
     */
    BackendRequest(HttpRequest head, ProxySettings settings, boolean mayUpgrade, boolean grpc) {
        this.head = head;
        this.body = new ReplayBuffer(settings.replayBodyBytes());
        this.maxBodyBytes = settings.maxBodyBytes();
        // A gRPC call (always a POST) may be sent again as an idempotent request may (retries on
        // UNAVAILABLE and lost streams); its grpc-timeout is its deadline.
        this.grpc = grpc;
        this.grpcTimeoutNanos = grpc ? Grpc.timeoutNanos(head) : 0;
        this.repeatable = grpc || RetryPolicy.repeatable(head);
        this.bodyless = !HttpUtil.isTransferEncodingChunked(head) && HttpUtil.getContentLength(head, 0L) == 0;
        this.upgrade = mayUpgrade ? Upgrades.requested(head) : null;
    }

    /** Whether the request asks to upgrade on a connection that can switch protocols. */
    boolean upgrades() {
        return upgrade != null;
    }

    /** Whether the request is a gRPC call. */
    boolean grpc() {
        return grpc;
    }

    /** The gRPC call's own deadline ({@code grpc-timeout}), or 0 when it has none. */
    long grpcTimeoutNanos() {
        return grpcTimeoutNanos;
    }

    /** The gRPC call has {@code leftNanos} of its deadline left: the next try tells its backend so. */
    void grpcTimeoutLeft(long leftNanos) {
        head.headers().set(Grpc.TIMEOUT, Grpc.timeoutValue(leftNanos));
    }

    /** Whether the request announced no body, so only an empty last part is still to come. */
    boolean bodyless() {
        return bodyless;
    }

    /** Whether the client sent the whole body. */
    boolean complete() {
        return body.complete();
    }

    /** Whether the request may be sent again after a backend saw it: its method allows it and its body is still held. */
    boolean repeatable() {
        return repeatable && body.replayable();
    }

    /** Whether the whole body came and is held, so that a second try can send all of it. */
    boolean heldWhole() {
        return body.complete() && body.replayable();
    }

    /** The head was rewritten for the backends ({@link HeaderRules}); the first try is about to start. */
    void rewritten() {
        if (upgrade != null) {
            // The hop-by-hop rewrite removed them; an upgrade is asked of the backend hop by hop.
            head.headers().set(HttpHeaderNames.UPGRADE, upgrade).set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        }
    }

    /** Whether {@code part} would take the body past {@code limits.max-body}. */
    boolean tooLargeWith(HttpContent part) {
        return body.bytesWith(part) > maxBodyBytes;
    }

    /** Takes ownership of the next part of the body. */
    void add(HttpContent part) {
        if (mirror != null) {
            mirror.onRequestBody(part);
        }
        body.add(part);
    }

    /** Copies this request to a shadow pool as it comes; a request that switches protocols is not copied. */
    void mirror(Mirror copy) {
        if (upgrade == null) {
            mirror = copy;
        }
    }

    /**
     * Writes the head and what the client sent of the body so far to {@code upstream}, whose
     * connection is had.
     *
     * @param flush flush now, outside a client read ({@link UpstreamTry#write})
     */
    void writeTo(UpstreamTry upstream, boolean flush) {
        if (hostFromBackend || !head.headers().contains(HttpHeaderNames.HOST)) {
            // An HTTP/1.0 client may omit Host; the HTTP/1.1 request to the backend must not.
            hostFromBackend = true;
            head.headers().set(HttpHeaderNames.HOST, upstream.backend().config().authority());
        }
        upstream.write(head, body, flush);
    }

    /** Writes the body parts the client sent since to {@code upstream}. */
    void writeBodyTo(UpstreamTry upstream) {
        upstream.writeBody(body);
    }

    /** A new try starts: nothing of the body has been written to it. */
    void rewind() {
        body.rewind();
    }

    /** Frees every body part still held. */
    void release() {
        if (mirror != null) {
            mirror.onExchangeEnd();
            mirror = null;
        }
        body.release();
    }

    @Override
    public String toString() {
        return head.method() + " " + head.uri();
    }
}
