package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * What moves between an exchange's client connection and its current try's backend connection,
 * and how fast: the request body's reads and flushes while the backend can take more, the response
 * body from the backend to the client once its head went out, a backend read for each write the
 * client can take, and, after a 101, a {@link Tunnel}'s bytes both ways. The relay judges each
 * part against the exchange's state; where a part ends the response (its last part, a malformed
 * one, a backend stalled mid-body, both sides of a tunnel done) the exchange ends it.
 *
 * <p>Not thread safe: confined to the client connection's event loop, which also runs the backend
 * connection.
 */
final class Relay {
    private final Exchange exchange;
    private final ClientSide client;
    private final Forwarder forwarder;
    private final BackendRequest request;
    private final ExchangeReport report;
    private final ClientResponse response;
    /** Response body bytes from the backend so far, before any compression. */
    private long responseBytes;
    /** The relay of a switched protocol while TUNNELING, else {@code null}. */
    private Tunnel tunnel;

    Relay(Exchange exchange, ClientSide client, Forwarder forwarder, BackendRequest request, ExchangeReport report,
            ClientResponse response) {
        this.exchange = exchange;
        this.client = client;
        this.forwarder = forwarder;
        this.request = request;
        this.report = report;
        this.response = response;
    }

    // ---- the request body ----

    /** {@link Exchange#wantsRequestData()}. */
    boolean wantsRequestData() {
        ExchangeState state = exchange.state();
        UpstreamTry t = forwarder.current();
        if (state == ExchangeState.TUNNELING) {
            return t != null && t.writable();
        }
        return state != ExchangeState.DONE && !request.complete() && t != null && t.writable();
    }

    /** {@link Exchange#flushToBackend()}. */
    void flushToBackend() {
        UpstreamTry t = forwarder.current();
        if (t != null) {
            t.flush();
        }
    }

    /** The backend connection can take more bytes again: the client is read for them. */
    void onBackendWritable() {
        ExchangeState state = exchange.state();
        if ((!request.complete() || state == ExchangeState.TUNNELING) && state != ExchangeState.DONE) {
            client.readRequest();
        }
    }

    // ---- the response ----

    /** A part of the response body; ownership passes here. */
    void onBody(HttpContent content) {
        if (exchange.state() != ExchangeState.STREAMING) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            content.release();
            exchange.malformed(content.decoderResult().cause().getMessage());
            return;
        }
        boolean last = content instanceof LastHttpContent;
        int bytes = content.content().readableBytes();
        long max = response.maxResponseBytes();
        if (max > 0 && (responseBytes += bytes) > max) {
            // Past the limit with the head already out: no status can say so any more, only the
            // close (the client sees a response shorter than it was told, or no last chunk).
            content.release();
            report.cutTooLarge();
            exchange.abortStreaming(Outcome.CANCELLED);
            return;
        }
        ResponseCompression compression = response.compression();
        if (compression != null) {
            content = compression.encode(content);
        }
        report.sent(content.content().readableBytes());
        client.writeResponse(content);
        if (last) {
            exchange.completeTry();
        }
    }

    /** The end of one read of the backend connection: what it gave goes out, and it is read again if the client can take more. */
    void onBackendReadComplete() {
        ExchangeState state = exchange.state();
        if (state == ExchangeState.DONE) {
            return;
        }
        client.flushToClient();
        boolean relaying = state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING;
        UpstreamTry t = forwarder.current();
        if (t != null && (!relaying || client.isWritable())) {
            t.read();
        }
    }

    /** {@link Exchange#onClientWritable()}. */
    void onClientWritable() {
        ExchangeState state = exchange.state();
        UpstreamTry t = forwarder.current();
        if ((state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING) && t != null) {
            t.read();
        }
    }

    /**
     * The backend connection read nothing for {@code backend-idle}. Before the response that is
     * the response timeout's business; after it began, a backend that stalls mid-body while the
     * client could take more is given up on: the client sees a truncated response and a close.
     */
    void onBackendIdle() {
        // A tunnel's idle time is judged on the client connection, where both directions show.
        if (exchange.state() == ExchangeState.STREAMING && client.isWritable()) {
            exchange.abortStreaming(Outcome.TIMEOUT);
        }
    }

    /** {@link Exchange#onDrain()}. */
    void onDrain() {
        ExchangeState state = exchange.state();
        if (state == ExchangeState.TUNNELING) {
            forwarder.closeBackend();
            exchange.endWithClose(Outcome.SUCCESS);
        } else if (state == ExchangeState.STREAMING && response.eventStream()) {
            // The rest of this response will never be read: its backend connection goes too.
            forwarder.closeBackend();
            if (response.closeDelimited()) {
                // An HTTP/1.0 client knows the end by the close.
                exchange.endWithClose(Outcome.SUCCESS);
            } else {
                forwarder.endTry(Outcome.SUCCESS, forwarder.proxy.clock().nanoTime());
                client.writeResponse(LastHttpContent.EMPTY_LAST_CONTENT);
                exchange.finish();
            }
        }
    }

    // ---- a switched protocol ----

    /**
     * Opens a {@link Tunnel} between the client's {@code side} and {@code t}, whose 101 goes to
     * the client as {@code switching}.
     */
    void openTunnel(TunnelSide side, UpstreamTry t, HttpResponse switching, long nowNanos) {
        tunnel = new Tunnel(side, t, report);
        tunnel.open(switching, nowNanos);
    }

    /** {@link Exchange#onTunnelData(boolean, ByteBuf)}. */
    void onTunnelData(boolean fromBackend, ByteBuf data) {
        UpstreamTry t = forwarder.current();
        if (exchange.state() != ExchangeState.TUNNELING || t == null || !t.connected()) {
            data.release();
        } else {
            tunnel.relay(fromBackend, data);
        }
    }

    /** {@link Exchange#onTunnelInputShutdown(boolean)}. */
    void onTunnelInputShutdown(boolean fromBackend) {
        UpstreamTry t = forwarder.current();
        if (exchange.state() == ExchangeState.TUNNELING && t != null && t.connected()
                && tunnel.inputShutdown(fromBackend) && exchange.state() == ExchangeState.TUNNELING) {
            exchange.endWithClose(Outcome.SUCCESS);
        }
    }
}
