package io.fulcrum.balancer.http1;

import io.fulcrum.balancer.edge.ConnectionEvents;
import io.fulcrum.balancer.edge.DeadlineTimer;
import io.fulcrum.balancer.edge.HeadDeadline;
import io.fulcrum.balancer.exchange.ClientSide;
import io.fulcrum.balancer.exchange.Exchange;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.RequestIntake;
import io.fulcrum.balancer.http1.FrontendConnection.State;
import io.fulcrum.balancer.http1.codec.Http1Decoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The client side of a proxied connection: validates each request, hands it to an
 * {@link Exchange}, and serves pipelined requests ({@link PipelinedRequests}) one after another in
 * order. Reading is explicit (AUTO_READ is off): the next request is read only when the previous
 * response is complete, and request body parts only while the backend connection can take them.
 * Where the connection is (between requests, in one, in a tunnel, closing) is one
 * {@link FrontendConnection.State}; whether it stays open after an exchange is decided there
 * ({@link FrontendConnection#keepAliveAfter}), and every answer of the balancer's own goes through
 * {@link FrontendConnection#respondLocally}, with the {@link FrontendConnection.CloseMode} decided
 * in one place.
 *
 * <p>Not thread safe: confined to the client channel's event loop.
 */
public final class Http1Frontend extends ChannelInboundHandlerAdapter implements ClientSide {
    private final ProxyContext proxy;
    private final boolean tls;
    private final long tunnelIdleNanos;
    private ChannelHandlerContext ctx;
    /** The per-request steps shared with HTTP/2; set once the connection is active. */
    private RequestIntake intake;
    private Exchange exchange;
    /** Pipelined messages that arrived while an earlier request was still being answered. */
    private final PipelinedRequests pipelined = new PipelinedRequests();
    /** The connection's state; set once the handler is added. */
    private FrontendConnection connection;
    /** How this connection switches protocols, for an exchange whose request asks to upgrade. */
    private FrontendTunnel tunnels;
    /**
     * Inside {@link #dispatch}: a fact of the call stack, not of the connection (it holds in any
     * state). An exchange that ends there leaves reading and the next request to the caller, which
     * goes on with them itself (the read's end, or the loop over pipelined requests).
     */
    private boolean dispatching;
    /**
     * Inside a client read, up to its {@code channelReadComplete}: writes to the backend wait for
     * one flush there. Also a fact of the call stack, orthogonal to the connection's state.
     */
    private boolean inReadBatch;
    /** One response timer per connection, re-armed lazily rather than scheduled per request. */
    private final DeadlineTimer responseTimer;
    /** The connection's request-head deadline, or {@code null} when its pipeline has none. */
    private HeadDeadline headDeadline;
    /** The request decoder, asked whether part of the next head is already read. */
    private Http1Decoder decoder;

    public Http1Frontend(ProxyContext proxy) {
        this(proxy, false, TimeUnit.HOURS.toNanos(1));
    }

    /**
     * @param tls the connection came in over TLS (X-Forwarded-Proto: https)
     * @param tunnelIdleNanos how long a tunnel (after a 101) may carry nothing either way
     */
    public Http1Frontend(ProxyContext proxy, boolean tls, long tunnelIdleNanos) {
        this.proxy = proxy;
        this.tls = tls;
        this.responseTimer = new DeadlineTimer(proxy.clock(), this::onResponseTimer);
        this.tunnelIdleNanos = tunnelIdleNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.connection = new FrontendConnection(ctx, proxy, pipelined::releaseAll);
        this.tunnels = new FrontendTunnel(ctx, connection, tunnelIdleNanos);
        if (ctx.channel().isActive()) {
            // Added once the protocol was known (after the TLS handshake or the HTTP/2 preface check).
            activate(ctx);
        }
    }

    /** Where the connection is; for tests. */
    State state() {
        return connection.state();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        activate(ctx);
        ctx.fireChannelActive();
    }

    private void activate(ChannelHandlerContext ctx) {
        if (intake != null) {
            return;
        }
        intake = RequestIntake.of(proxy, tls, ctx.channel());
        headDeadline = HeadDeadline.of(ctx);
        decoder = ctx.pipeline().get(Http1Decoder.class);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inReadBatch = true;
        if (connection.ending()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf) {
            // A switched protocol's bytes (the codec is gone once the backend answered 101).
            Exchange ex = exchange;
            if (ex != null && ex.tunneling()) {
                ex.onTunnelData(false, (ByteBuf) msg);
            } else {
                ((ByteBuf) msg).release();
            }
            return;
        }
        if (!pipelined.isEmpty() || (exchange != null && exchange.requestComplete())) {
            pipelined.add(msg);
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        dispatching = true;
        try {
            if (msg instanceof HttpRequest) {
                onRequest((HttpRequest) msg);
            }
            if (msg instanceof HttpContent) {
                onContent((HttpContent) msg);
            } else if (!(msg instanceof HttpObject)) {
                ReferenceCountUtil.release(msg);
            }
        } finally {
            dispatching = false;
        }
    }

    private void onRequest(HttpRequest request) {
        if (headDeadline != null) {
            headDeadline.headReceived();
        }
        Exchange ex = intake.admit(request, this, tunnels, ctx.alloc(), connection);
        if (ex != null) {
            exchange = ex;
            connection.moveTo(State.EXCHANGING);
            if (!ex.bodyless()) {
                ex.start();
            }
            // A request without a body starts with its empty last part, which the decoder gives
            // right after the head (onContent): the exchange has the whole request before it
            // chooses a backend, and a pooled connection sends it in one go.
        }
    }

    private void onContent(HttpContent content) {
        Exchange ex = exchange;
        if (ex != null && !ex.isDone()) {
            if (content.decoderResult().isFailure()) {
                // Broken chunking or framing in the request body: nothing more can be trusted.
                // The client gets a 400 unless its response has begun; either way the connection
                // closes (RFC 9112 section 7.1), and what is left of the body is dropped there.
                content.release();
                ex.onMalformedRequestBody();
                return;
            }
            ex.onRequestContent(content);
            if (ex.bodyless() && content instanceof LastHttpContent) {
                ex.start();
                if (!connection.ending()) {
                    // One read stays armed while the exchange runs, as for a request whose body
                    // is still coming: the socket's read interest is not dropped at the end of
                    // this read and asked for again when the response is out (with epoll, an
                    // epoll_ctl call each way per request). A request pipelined behind this one
                    // is read into the queue; nothing more is read until this exchange ends.
                    ctx.read();
                }
            }
            return;
        }
        boolean malformed = content.decoderResult().isFailure();
        content.release();
        if (malformed) {
            connection.closeNow();
        } else if (content instanceof LastHttpContent && connection.state() == State.DISCARDING_BODY) {
            connection.moveTo(State.READING_HEAD);
        }
    }

    @Override
    public EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    /** Whether a client read is under way, so writes to the backend are flushed at its end. */
    @Override
    public boolean inReadBatch() {
        return inReadBatch;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inReadBatch = false;
        Exchange ex = exchange;
        if (ex != null) {
            ex.flushToBackend();
        }
        // Nothing for the client is left unflushed here: responses are written from backend reads
        // and flushed at their end or in exchangeDone, and the balancer's own errors are written
        // with writeAndFlush.
        readRequest();
    }

    /** Asks for more request bytes if the current state wants them. */
    @Override
    public void readRequest() {
        State state = connection.state();
        if (state.ending()) {
            if (state == State.LINGERING) {
                ctx.read();
            }
            return;
        }
        Exchange ex = exchange;
        boolean nothingQueued = pipelined.isEmpty();
        boolean discarding = state == State.DISCARDING_BODY;
        if (ex == null && nothingQueued && !discarding && headDeadline != null) {
            // Waiting for the next request's head: between requests client-idle applies, from its
            // first byte request-head (HAProxy's timeout http-keep-alive, then http-request).
            headDeadline.awaitHead(decoder != null && decoder.headPending());
        }
        if (ex == null ? nothingQueued || discarding : ex.wantsRequestData()) {
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange ex = exchange;
        if (ex != null && ctx.channel().isWritable()) {
            ex.onClientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * The connection's one response timer, armed by the exchange for its deadlines. A timer that
     * fires early finds the current exchange's deadline and re-arms for it.
     */
    @Override
    public DeadlineTimer responseTimer() {
        return responseTimer;
    }

    private void onResponseTimer() {
        Exchange ex = exchange;
        long deadline = ex == null ? 0 : ex.responseDeadline();
        if (deadline == 0 || connection.ending()) {
            return;
        }
        if (proxy.clock().nanoTime() - deadline >= 0) {
            ex.onResponseTimeout();
        } else {
            responseTimer.arm(ctx.executor(), deadline);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.closed();
        responseTimer.cancel();
        Exchange ex = exchange;
        if (ex != null) {
            ex.onClientClosed();
        }
        pipelined.releaseAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == HeadDeadline.EXPIRED) {
            onHeadDeadline();
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent && exchange != null && exchange.tunneling()) {
            // Only a tunnel allows half-closed connections: the client sent its last byte.
            exchange.onTunnelInputShutdown(false);
            return;
        }
        if (evt instanceof IdleStateEvent && exchange != null && exchange.tunneling()) {
            // Nothing went either way through the tunnel for tunnel-idle.
            connection.closeNow();
            return;
        }
        if (evt instanceof IdleStateEvent || evt == ConnectionEvents.DRAIN) {
            // client-idle or shutdown: a connection with no request in progress is closed now;
            // one waiting for its response closes after it (or by the response timeout); one
            // whose client stopped sending the body it announced gets 408. On shutdown, an event
            // stream or a tunnel in progress, which never ends by itself, ends at once.
            Exchange ex = exchange;
            if (ex == null && evt == ConnectionEvents.DRAIN) {
                connection.closeAfterDrainGrace(this::idle);
            } else if (ex == null) {
                connection.closeNow();
            } else if (evt instanceof IdleStateEvent && ex.wantsRequestData()) {
                ex.onClientIdleMidRequest();
            } else if (evt == ConnectionEvents.DRAIN) {
                ex.onDrain();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** No request in progress, none queued and no part of a next head read. */
    private boolean idle() {
        return exchange == null && pipelined.isEmpty() && (decoder == null || !decoder.headPending());
    }

    /** A request head was not complete within {@code request-head}, if the connection waits for one. */
    private void onHeadDeadline() {
        if (!connection.ending() && exchange == null && pipelined.isEmpty()) {
            connection.headTimedOut(decoder != null && decoder.headPending());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connection.failed(cause);
    }

    // ---- called by Exchange ----

    @Override
    public void writeResponse(HttpObject msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    @Override
    public void writeInterim(HttpResponse interim) {
        FullHttpResponse copy = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, interim.status(), Unpooled.EMPTY_BUFFER);
        ctx.writeAndFlush(copy, ctx.voidPromise());
    }

    @Override
    public void flushToClient() {
        ctx.flush();
    }

    /** The response broke after it began: the client sees a truncated response and a close. */
    @Override
    public void abortResponse(Exchange ex) {
        connection.abortResponse();
    }

    @Override
    public void writeError(Exchange ex, HttpResponseStatus status, String message, boolean close, boolean retryAfter) {
        connection.writeError(ex, status, message, close, retryAfter);
    }

    @Override
    public void writeAnswer(Exchange ex, FullHttpResponse answer, boolean close) {
        connection.writeAnswer(ex, answer, close);
    }

    /** The exchange ended (response complete, failed or cancelled): serve the next request. */
    @Override
    public void exchangeDone(Exchange ex) {
        if (exchange != ex) {
            return;
        }
        exchange = null;
        // The response's last part was written from the backend's read; it goes out now.
        ctx.flush();
        if (connection.ending() || !connection.keepAliveAfter(ex) || dispatching) {
            return;
        }
        if (!pipelined.isEmpty()) {
            // Serve the next pipelined request on a later turn of the loop: the backend
            // connection just pooled may still be inside its read, with bytes its decoder holds.
            ctx.executor().execute(this::serveQueued);
            return;
        }
        // No exchange now (none starts but from a read or serveQueued): read the next request.
        readRequest();
    }

    private void serveQueued() {
        if (connection.ending() || exchange != null) {
            return;
        }
        drainQueued();
        if (exchange == null || exchange.wantsRequestData()) {
            if (exchange != null) {
                exchange.flushToBackend();
            }
            readRequest();
        }
    }

    private void drainQueued() {
        while (!pipelined.isEmpty() && !connection.ending()
                && (exchange == null || !exchange.requestComplete())) {
            dispatch(pipelined.poll());
            if (exchange != null && exchange.isDone()) {
                exchange = null;
            }
        }
        if (exchange != null) {
            exchange.flushToBackend();
        }
    }

    /** One per connection: answered here, not by Netty's per-thread annotation cache (a lookup per handler added). */
    @Override
    public boolean isSharable() {
        return false;
    }
}
