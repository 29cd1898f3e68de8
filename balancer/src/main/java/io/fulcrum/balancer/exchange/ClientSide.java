package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.edge.DeadlineTimer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * What an {@link Exchange} may ask of the client connection it serves: write and flush response
 * parts, send the balancer's own errors, read more of the request, and the timer its response
 * deadlines share. The
 * HTTP/1.1 frontend and each HTTP/2 stream implement it; tests implement it to drive an exchange
 * without a client socket. Switching protocols is not part of it: only a connection that can
 * switch offers that, as a {@link TunnelSide}.
 *
 * <p>Every method is called on the client connection's event loop.
 */
public interface ClientSide {
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

    /**
     * Sends an answer given in the backend's place before any try (a 401, an auth service's
     * refusal); ownership of {@code answer} passes here.
     *
     * @param close whether the connection closes after it (lingering, since the client may still
     *     be sending)
     */
    void writeAnswer(Exchange exchange, FullHttpResponse answer, boolean close);

    /**
     * The connection's one response timer, which the exchange arms for its deadlines
     * ({@link ResponseDeadlines}); when it fires, the connection calls
     * {@link Exchange#onResponseTimeout()} of each exchange whose {@link Exchange#responseDeadline()}
     * has passed, and arms it again for the next.
     */
    DeadlineTimer responseTimer();

    /** The exchange ended (response complete, failed or cancelled); the next request may be served. */
    void exchangeDone(Exchange exchange);
}
