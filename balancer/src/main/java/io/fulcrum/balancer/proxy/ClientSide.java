package io.fulcrum.balancer.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * What an {@link Exchange} may ask of the client connection it serves: write and flush response
 * parts, send the balancer's own errors, read more of the request, and time the response. The
 * frontend handler implements it over a real channel; tests implement it to drive an exchange
 * without a client socket.
 *
 * <p>Every method is called on the client connection's event loop.
 */
interface ClientSide {
    /** The loop every connection of this exchange lives on; backend connections are opened on it. */
    EventLoop eventLoop();

    /** Whether the client connection can take more bytes now (it is below its write watermark). */
    boolean isWritable();

    /** Whether a client read is under way, so that writes to the backend are flushed at its end. */
    boolean inReadBatch();

    /** Asks for more request bytes if the connection's state wants them. */
    void readRequest();

    /** Writes a response part; flushed by {@link #flushToClient()} or at the exchange's end. */
    void writeResponse(HttpObject part);

    /** Writes and flushes an interim (1xx) response at once. */
    void writeInterim(HttpResponse interim);

    void flushToClient();

    /** The response broke after it began: the client sees a truncated response and a close. */
    void abortResponse(Exchange exchange);

    /**
     * Sends one of the balancer's own error responses.
     *
     * @param close whether the connection closes after it (lingering, since the client may still
     *     be sending)
     * @param retryAfter whether to add {@code Retry-After}
     */
    void writeError(Exchange exchange, HttpResponseStatus status, String message, boolean close, boolean retryAfter);

    /** Makes sure {@link Exchange#onResponseTimeout()} is called no later than {@code deadlineNanos}. */
    void armResponseTimer(long deadlineNanos);

    /**
     * The backend switched protocols (101) for an upgrade request: writes and flushes
     * {@code switching}, and from then on the connection carries bytes both ways
     * ({@link #writeTunnel}) instead of HTTP messages.
     */
    void startTunnel(HttpResponse switching);

    /** Writes bytes the backend sent through the tunnel; flushed by {@link #flushToClient()}. */
    void writeTunnel(ByteBuf data);

    /**
     * The backend sent the last byte of the tunnel: the client gets a FIN once what was written to
     * it is out, and may go on sending. A later {@link #abortResponse} closes after those writes.
     */
    void shutdownTunnelOutput();

    /** The upgrade request was answered without switching: the next request may be parsed. */
    void upgradeRefused();

    /** The exchange ended (response complete, failed or cancelled); the next request may be served. */
    void exchangeDone(Exchange exchange);
}
