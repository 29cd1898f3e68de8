package io.fulcrum.balancer.http1;

import io.fulcrum.balancer.edge.ErrorResponses;
import io.fulcrum.balancer.edge.RequestValidator;
import io.fulcrum.balancer.exchange.ClientSide;
import io.fulcrum.balancer.exchange.Exchange;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.RequestIntake;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of one HTTP/1.1 client connection, one {@link State} at a time with its legal moves
 * explicit (as Netty's {@code HttpObjectDecoder} keeps one state), and the ways the connection
 * answers by itself and ends. Every response of the balancer's own (refusals and the route's own
 * answers through {@link RequestIntake.Answers}, the exchange's errors, the 408 of a slow head)
 * goes through {@link #respondLocally}, with its {@link CloseMode} decided in one place
 * ({@link #closeMode}); {@link #closeNow()} and {@link #closeAfterFlush()} end it otherwise.
 *
 * <p>Not thread safe: confined to the client channel's event loop, where the listeners it adds to
 * writes run too.
 */
final class FrontendConnection implements RequestIntake.Answers {
    private static final Logger log = LoggerFactory.getLogger(FrontendConnection.class);
    private static final long LINGER_MILLIS = 2000;

    /** Where the connection is between requests, in a request, in a tunnel or in its end. */
    enum State {
        /** No request in progress: reading (the rest of) the next request head. */
        READING_HEAD,
        /** A request was admitted and its exchange runs (the frontend holds it). */
        EXCHANGING,
        /** The request was answered before its body ended: the rest of the body is read and dropped. */
        DISCARDING_BODY,
        /** The backend switched protocols (101): bytes go both ways, with no HTTP codec. */
        TUNNELING,
        /** In a tunnel whose backend sent its last byte: the client got a FIN and may go on sending. */
        TUNNEL_OUTPUT_SHUT,
        /** Closes once what was written is out; input is dropped, nothing more is served. */
        CLOSING,
        /** A final answer is out and output shut down: input is read and dropped until the close. */
        LINGERING,
        /** The channel is closed. */
        CLOSED;

        /** Whether the connection may go from this state to {@code next}. */
        boolean canGoTo(State next) {
            if (next == CLOSED) {
                // The client may close whenever it likes.
                return this != CLOSED;
            }
            return switch (this) {
                case READING_HEAD -> next == EXCHANGING || next == DISCARDING_BODY || next == CLOSING;
                case EXCHANGING -> next == READING_HEAD || next == DISCARDING_BODY || next == TUNNELING
                        || next == CLOSING;
                case DISCARDING_BODY -> next == READING_HEAD || next == CLOSING;
                case TUNNELING -> next == TUNNEL_OUTPUT_SHUT || next == CLOSING;
                case TUNNEL_OUTPUT_SHUT -> next == CLOSING;
                case CLOSING -> next == LINGERING;
                case LINGERING, CLOSED -> false;
            };
        }

        /** Whether the connection is ending: no request is read or served any more. */
        boolean ending() {
            return this == CLOSING || this == LINGERING || this == CLOSED;
        }
    }

    /** What happens to the connection after a response of the balancer's own. */
    enum CloseMode {
        /** The next request may follow. */
        KEEP_ALIVE,
        /** The connection closes once the response is out (RFC 9112 section 9.6). */
        CLOSE,
        /**
         * The connection closes lingeringly (nginx's lingering_close): the client may still be
         * sending the body of the request being answered, and closing a socket with unread input
         * makes the kernel send a reset that can destroy the response before the client reads it.
         * So: write, shut down output (FIN after the response), read and drop whatever still
         * arrives for at most {@code LINGER_MILLIS}, then close.
         */
        LINGER
    }

    /** How long an idle keep-alive connection may still begin a request once a drain started. */
    static final long DRAIN_IDLE_GRACE_MILLIS = 1000;

    private final ChannelHandlerContext ctx;
    private final ProxyContext proxy;
    /** Drops what will never be served (pipelined requests) once the connection starts to close. */
    private final Runnable onClosing;
    private State state = State.READING_HEAD;

    FrontendConnection(ChannelHandlerContext ctx, ProxyContext proxy, Runnable onClosing) {
        this.ctx = ctx;
        this.proxy = proxy;
        this.onClosing = onClosing;
    }

    State state() {
        return state;
    }

    boolean ending() {
        return state.ending();
    }

    void moveTo(State next) {
        assert state.canGoTo(next) : "client connection " + ctx.channel().id() + ": " + state + " -> " + next;
        state = next;
    }

    /** The channel went inactive. */
    void closed() {
        if (state != State.CLOSED) {
            moveTo(State.CLOSED);
        }
    }

    /**
     * The exchange of the current request ended: moves to where the next request is read and
     * returns true, or starts to close and returns false when none may follow.
     */
    boolean keepAliveAfter(Exchange ex) {
        if (ex.requestComplete()) {
            moveTo(State.READING_HEAD);
        } else if (ex.bodyless()) {
            // Only the empty last part of a request announced without a body is still to come.
            moveTo(State.DISCARDING_BODY);
        } else {
            // Answered before the whole body arrived: the rest of it is not worth reading.
            closeAfterFlush();
            return false;
        }
        if (proxy.draining() || ex.closesConnection()) {
            // No request after this one is processed (RFC 9112 section 9.6).
            closeAfterFlush();
            return false;
        }
        return true;
    }

    @Override
    public void refuse(HttpRequest request, String requestId, RequestValidator.Rejection rejection,
            String retryAfter) {
        // A rate-limited request keeps the connection unless a body is coming (not worth reading)
        // or the client said close; a malformed or oversized one closes it.
        boolean stays = retryAfter != null && HttpUtil.isKeepAlive(request) && bodyless(request);
        CloseMode mode = closeMode(!stays, false);
        discardRestIf(mode);
        respondError(null, requestId, rejection.status(), rejection.message(), mode, retryAfter);
    }

    /**
     * Writes a route's own answer. The request's body, if any, is not read: the connection closes
     * after the answer (lingering), as after any early answer.
     */
    @Override
    public void answerLocally(HttpRequest request, FullHttpResponse response) {
        CloseMode mode = closeMode(!bodyless(request), !HttpUtil.isKeepAlive(request));
        discardRestIf(mode);
        respondLocally(response, mode);
    }

    /** An answer before any exchange that keeps the connection: what is left of the body is dropped. */
    private void discardRestIf(CloseMode mode) {
        if (mode == CloseMode.KEEP_ALIVE) {
            moveTo(State.DISCARDING_BODY);
        }
    }

    private static boolean bodyless(HttpRequest request) {
        return !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
    }

    /**
     * An exchange's error ({@link ClientSide#writeError}).
     *
     * @param close whether the connection closes after it, lingering
     */
    void writeError(Exchange ex, HttpResponseStatus status, String message, boolean close, boolean retryAfter) {
        respondError(ex, ex.requestId(), status, message, closeMode(close, ex.closesConnection()),
                retryAfter ? "1" : null);
    }

    /** An answer an exchange gives in its backend's place ({@link ClientSide#writeAnswer}). */
    void writeAnswer(Exchange ex, FullHttpResponse answer, boolean close) {
        respondLocally(answer, closeMode(close, ex.closesConnection()));
    }

    /**
     * What a response of the balancer's own does to the connection. One given while the client may
     * still be sending ({@code linger}: an early answer to a request with a body, or one whose
     * framing is in doubt) closes lingeringly; one after which no request may follow (the exchange
     * or the client said close, RFC 9112 section 9.6, or the balancer is draining) closes once it is
     * out; any other keeps the connection.
     */
    private CloseMode closeMode(boolean linger, boolean closes) {
        return closeMode(linger, closes, proxy.draining());
    }

    static CloseMode closeMode(boolean linger, boolean closes, boolean draining) {
        if (linger) {
            return CloseMode.LINGER;
        }
        return closes || draining ? CloseMode.CLOSE : CloseMode.KEEP_ALIVE;
    }

    /**
     * Sends one of the balancer's JSON errors.
     *
     * @param ex the exchange it answers, or {@code null} before any
     * @param requestId the request's id, or {@code null} when no request head came
     * @param retryAfter the seconds of {@code Retry-After}, or {@code null} for none
     */
    void respondError(Exchange ex, String requestId, HttpResponseStatus status, String message, CloseMode mode,
            String retryAfter) {
        FullHttpResponse response = ErrorResponses.json(ctx.alloc(), status, message, requestId,
                mode != CloseMode.KEEP_ALIVE);
        if (retryAfter != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        String decision = ex == null ? null : ex.decisionForClient();
        if (decision != null) {
            response.headers().set(Exchange.DECISION_HEADER, decision);
        }
        respondLocally(response, mode);
    }

    /**
     * Writes and flushes a response of the balancer's own (a refusal, an error, a route's answer),
     * then leaves the connection as {@code mode} says. One that closes says so in
     * {@code Connection: close}.
     */
    void respondLocally(FullHttpResponse response, CloseMode mode) {
        if (mode != CloseMode.KEEP_ALIVE
                && !response.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        switch (mode) {
            case KEEP_ALIVE -> ctx.writeAndFlush(response, ctx.voidPromise());
            case CLOSE -> {
                startClosing();
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
            case LINGER -> linger(response);
        }
    }

    private void linger(FullHttpResponse response) {
        startClosing();
        ctx.writeAndFlush(response).addListener(written -> {
            Channel ch = ctx.channel();
            if (!written.isSuccess() || !(ch instanceof DuplexChannel) || !ch.isActive()) {
                ch.close();
                return;
            }
            ((DuplexChannel) ch).shutdownOutput().addListener(shut -> {
                if (state == State.CLOSING) {
                    moveTo(State.LINGERING);
                }
                ch.eventLoop().schedule(() -> {
                    ch.close();
                }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
                ctx.read();
            });
        });
    }

    /**
     * A request head was not complete within {@code request-head}: 408 and close (RFC 9110
     * section 15.5.9), lingering as after any early answer. A connection that sent no byte of a
     * head is closed without one: nothing was asked, and an answer could be taken for the
     * response to a request the client is about to send on a connection it thinks is fresh.
     *
     * @param headPending whether part of a head was received
     */
    void headTimedOut(boolean headPending) {
        if (headPending) {
            respondError(null, null, HttpResponseStatus.REQUEST_TIMEOUT, "request head not complete in time",
                    CloseMode.LINGER, null);
        } else {
            closeNow();
        }
    }

    /** The response broke after it began: the client sees a truncated response and a close. */
    void abortResponse() {
        if (state == State.TUNNEL_OUTPUT_SHUT) {
            // The tunnel's last bytes may still be queued ahead of its FIN.
            closeAfterFlush();
        } else {
            closeNow();
        }
    }

    /**
     * A drain began while no request was in progress: a keep-alive client may be sending one now,
     * so it gets {@link #DRAIN_IDLE_GRACE_MILLIS} to begin (and that request is answered with a
     * close); a connection still {@code idle} then is closed.
     */
    void closeAfterDrainGrace(BooleanSupplier idle) {
        ctx.executor().schedule(() -> {
            if (!ending() && idle.getAsBoolean()) {
                closeNow();
            }
        }, DRAIN_IDLE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * The connection failed: closed at once. A socket error (a reset, a broken pipe: clients leave
     * this way every day) is logged at debug, as nginx logs it at info and HAProxy not at all;
     * anything else is a fault of the balancer's own and is logged as a warning. The access log
     * has the request either way.
     */
    void failed(Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("client connection {} failed: {}", ctx.channel().id(), cause.toString());
        } else {
            log.warn("client connection {} failed: {}", ctx.channel().id(), cause.toString());
        }
        closeNow();
    }

    /** Closes at once, with whatever was written flushed first. */
    void closeNow() {
        startClosing();
        ctx.flush();
        ctx.close();
    }

    /** Closes once what was written is out. */
    void closeAfterFlush() {
        startClosing();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void startClosing() {
        if (!state.ending()) {
            moveTo(State.CLOSING);
        }
        onClosing.run();
    }
}
