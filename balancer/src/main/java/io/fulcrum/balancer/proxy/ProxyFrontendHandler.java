package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.http1.Http1Decoder;
import io.fulcrum.balancer.http1.Http1Encoder;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.balancer.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of a proxied connection: validates each request, hands it to an
 * {@link Exchange}, and serves pipelined requests one after another in order. Reading is explicit
 * (AUTO_READ is off): the next request is read only when the previous response is complete, and
 * request body parts only while the backend connection can take them.
 *
 * <p>Not thread safe: confined to the client channel's event loop.
 */
final class ProxyFrontendHandler extends ChannelInboundHandlerAdapter implements ClientSide {
    private static final Logger log = LoggerFactory.getLogger(ProxyFrontendHandler.class);
    private static final int MAX_REQUEST_ID_LENGTH = 200;
    private static final long LINGER_MILLIS = 2000;
    /** User event sent to every client channel when the balancer starts draining. */
    static final Object DRAIN = new Object();
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final ProxyContext proxy;
    private final boolean tls;
    private final long tunnelIdleNanos;
    private final boolean h2;
    private ChannelHandlerContext ctx;
    private String clientAddress;
    private InetAddress remoteAddress;
    private Exchange exchange;
    /** Pipelined messages that arrived while an earlier request was still being answered. */
    private ArrayDeque<Object> queued;
    private boolean dispatching;
    /** Dropping the body of a request that was already answered. */
    private boolean discardingBody;
    private boolean closing;
    private boolean inReadBatch;
    /** After a final error: reading and dropping input until the client stops or time is up. */
    private boolean lingering;
    /** One response timer per connection, re-armed lazily rather than scheduled per request. */
    private ScheduledFuture<?> responseTimer;
    private long responseTimerAt;
    private final Runnable onResponseTimer = this::onResponseTimer;

    ProxyFrontendHandler(ProxyContext proxy) {
        this(proxy, false, TimeUnit.HOURS.toNanos(1));
    }

    /**
     * @param tls the connection came in over TLS (X-Forwarded-Proto: https)
     * @param tunnelIdleNanos how long a tunnel (after a 101) may carry nothing either way
     */
    ProxyFrontendHandler(ProxyContext proxy, boolean tls, long tunnelIdleNanos) {
        this(proxy, tls, tunnelIdleNanos, false);
    }

    /** @param h2 this handler serves one HTTP/2 stream, whose frames came as HTTP/1.1 messages */
    ProxyFrontendHandler(ProxyContext proxy, boolean tls, long tunnelIdleNanos, boolean h2) {
        this.proxy = proxy;
        this.tls = tls;
        this.tunnelIdleNanos = tunnelIdleNanos;
        this.h2 = h2;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            // Added once the protocol was known (after the TLS handshake or the HTTP/2 preface check).
            activate(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        activate(ctx);
        ctx.fireChannelActive();
    }

    private void activate(ChannelHandlerContext ctx) {
        if (clientAddress != null) {
            return;
        }
        // The PROXY header's source when a trusted edge sent one, else the peer.
        InetSocketAddress remote = ProxyProtocolHandler.connectionAddress(ctx.channel());
        clientAddress = remote != null ? remote.getAddress().getHostAddress()
                : String.valueOf(ctx.channel().remoteAddress());
        remoteAddress = remote != null ? remote.getAddress() : null;
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inReadBatch = true;
        if (closing) {
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
        if ((queued != null && !queued.isEmpty()) || (exchange != null && exchange.requestComplete())) {
            enqueue(msg);
            return;
        }
        dispatch(msg);
    }

    private void enqueue(Object msg) {
        if (queued == null) {
            queued = new ArrayDeque<>(4);
        }
        queued.add(msg);
    }

    private void dispatch(Object msg) {
        dispatching = true;
        try {
            if (msg instanceof FullHttpRequest) {
                // A whole request in one object (an HTTP/2 stream whose headers ended it): the
                // exchange keeps head and body apart, the head to send to each try and the body
                // to replay.
                FullHttpRequest full = (FullHttpRequest) msg;
                onRequest(new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers()));
                onContent(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
                return;
            }
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
        ProxySettings settings = proxy.settings();
        RequestValidator.Rejection rejection = RequestValidator.validate(request, settings.maxBodyBytes());
        String requestId = requestId(request);
        TrustedEdges edges = settings.trustedEdges();
        String client = edges == null ? clientAddress : edges.client(remoteAddress, clientAddress, request.headers());
        RequestFacts facts = facts(request, settings, client);
        if (rejection != null) {
            discardingBody = true;
            recordRejection(facts, client, requestId, rejection, null);
            writeError(null, requestId, rejection.status(), rejection.message(), true, null);
            return;
        }
        // Asked once per request, before any backend is chosen; retries stay in the chosen pool.
        Route<ProxyPool> route = proxy.router().route(request, facts.host());
        long retryAfter = RateLimits.check(settings.rateLimits(), route.name(), request, client, proxy);
        if (retryAfter > 0) {
            // Refused before any backend is chosen: no backend load, nothing to retry.
            // The connection stays unless a body is coming (not worth reading) or the client said close.
            boolean stays = HttpUtil.isKeepAlive(request) && !HttpUtil.isTransferEncodingChunked(request)
                    && HttpUtil.getContentLength(request, 0L) == 0;
            discardingBody = true;
            recordRejection(facts, client, requestId, RateLimits.REJECTION, route);
            writeError(null, requestId, RateLimits.REJECTION.status(), RateLimits.REJECTION.message(), !stays,
                    Long.toString(retryAfter));
            return;
        }
        if (route.kind() != Route.Kind.POOL) {
            respondLocally(request, client, requestId, facts, route);
            return;
        }
        ProxyPool pool = route.pool();
        String region = settings.regionHeader() == null ? null : request.headers().get(settings.regionHeader());
        // The exchange reads the client's HTTP version before the rewrite makes it HTTP/1.1.
        Exchange ex = new Exchange(this, proxy, pool, route, pool.settings(), request, requestId, region, client);
        ex.facts(facts);
        if (h2) {
            // Netty's HTTP/2-to-HTTP/1.1 conversion adds fields of its own; they are not the client's.
            for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
                request.headers().remove(name.text());
            }
        }
        HeaderRules.prepareRequest(request, clientAddress, client, requestId, tls);
        if (facts.spanId() != null) {
            // No valid traceparent came in: this request starts a trace (its tracestate goes too).
            request.headers().remove(TraceContext.TRACESTATE);
            request.headers().set(TraceContext.TRACEPARENT, TraceContext.traceparent(facts.traceId(), facts.spanId()));
        }
        if (route.rewrites()) {
            request.setUri(route.rewrite(request.uri()));
        }
        // After the balancer's own forwarding headers, so that a route may replace them.
        route.editRequest(request.headers());
        exchange = ex;
        ex.start();
    }

    /**
     * The request's facts as plain values, read before the head is rewritten; a request without a
     * valid {@code traceparent} gets a new trace id here.
     */
    private RequestFacts facts(HttpRequest request, ProxySettings settings, String client) {
        String traceparent = request.headers().get(TraceContext.TRACEPARENT);
        String traceId = TraceContext.traceId(traceparent);
        String spanId = null;
        if (traceId == null) {
            traceId = TraceContext.newTraceId();
            spanId = TraceContext.newParentId();
        }
        DebugAccess debug = settings.debug();
        return new RequestFacts(System.currentTimeMillis(), request.method().name(), request.uri(),
                request.headers().get(HttpHeaderNames.HOST), request.headers().get(HttpHeaderNames.USER_AGENT),
                request.protocolVersion().text(), traceId, spanId,
                debug != null && debug.allows(request.headers().contains(debug.header()),
                        client == clientAddress ? remoteAddress : TrustedEdges.parse(client)));
    }

    /**
     * Answers a request whose route does not go to a pool: its redirect or fixed response, or the
     * 404 of no route. The request's body, if any, is not read: the connection closes after the
     * answer (lingering), as after any early answer.
     */
    private void respondLocally(HttpRequest request, String client, String requestId, RequestFacts facts,
            Route<ProxyPool> route) {
        boolean bodyless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
        boolean close = !bodyless || !HttpUtil.isKeepAlive(request) || proxy.draining();
        discardingBody = true;
        FullHttpResponse response = RouteResponses.of(ctx.alloc(), route, request, requestId, tls ? "https" : "http",
                facts.host());
        recordLocal(facts, client, requestId, response.status().code(), response.content().readableBytes(),
                route.kind() == Route.Kind.NO_ROUTE ? RouteResponses.NO_ROUTE : null, route);
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        if (!bodyless) {
            writeAndLinger(response);
        } else if (close) {
            closing = true;
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response, ctx.voidPromise());
        }
    }

    private void recordLocal(RequestFacts facts, String client, String requestId, int status, long bytesOut,
            String error, Route<ProxyPool> route) {
        RequestRecord r = new RequestRecord(facts.startEpochMillis(), requestId, facts.traceId(), client,
                facts.method(), facts.host(), facts.target(), facts.protocol(), status,
                RequestRecord.COMPLETED, 0, bytesOut, 0, 0, facts.userAgent(), null, List.of(), null, error,
                route.name(), null);
        if (proxy.requestMetrics() != null) {
            proxy.requestMetrics().record(r);
        }
        proxy.accessLog().log(r);
    }

    /** A request refused before any exchange began (malformed, too large): metered and logged here. */
    /** @param route the request's route, or {@code null} when it was refused before routing */
    private void recordRejection(RequestFacts facts, String client, String requestId,
            RequestValidator.Rejection rejection, Route<ProxyPool> route) {
        RequestRecord r = new RequestRecord(facts.startEpochMillis(), requestId, facts.traceId(), client,
                facts.method(), facts.host(), facts.target(), facts.protocol(), rejection.status().code(),
                RequestRecord.COMPLETED, 0, 0, 0, 0, facts.userAgent(), null, List.of(), null, rejection.message(),
                route == null ? null : route.name(),
                route == null || route.pool() == null ? null : route.pool().name());
        if (proxy.requestMetrics() != null) {
            proxy.requestMetrics().record(r);
        }
        proxy.accessLog().log(r);
    }

    private void onContent(HttpContent content) {
        Exchange ex = exchange;
        if (ex != null && !ex.isDone()) {
            if (content.decoderResult().isFailure()) {
                // Broken chunking or framing in the request body: nothing more can be trusted.
                // The client gets a 400 unless its response has begun; either way the connection
                // closes (RFC 9112 section 7.1).
                content.release();
                discardingBody = true;
                ex.onMalformedRequestBody();
                return;
            }
            ex.onRequestContent(content);
            return;
        }
        boolean malformed = content.decoderResult().isFailure();
        content.release();
        if (malformed) {
            closeNow();
        } else if (content instanceof LastHttpContent) {
            discardingBody = false;
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
        if (closing) {
            if (lingering) {
                ctx.read();
            }
            return;
        }
        Exchange ex = exchange;
        if (ex == null ? (queued == null || queued.isEmpty()) || discardingBody : ex.wantsRequestData()) {
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
     * Makes sure the connection's timer fires no later than {@code deadline}. A timer that fires
     * early finds the current exchange's deadline and re-arms for it.
     */
    @Override
    public void armResponseTimer(long deadline) {
        if (responseTimer != null && responseTimerAt <= deadline) {
            return;
        }
        if (responseTimer != null) {
            responseTimer.cancel(false);
        }
        responseTimerAt = deadline;
        responseTimer = ctx.executor().schedule(onResponseTimer, Math.max(0, deadline - proxy.clock().nanoTime()),
                TimeUnit.NANOSECONDS);
    }

    private void onResponseTimer() {
        responseTimer = null;
        Exchange ex = exchange;
        long deadline = ex == null ? 0 : ex.responseDeadline();
        if (deadline == 0 || closing) {
            return;
        }
        if (proxy.clock().nanoTime() - deadline >= 0) {
            ex.onResponseTimeout();
        } else {
            armResponseTimer(deadline);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        if (responseTimer != null) {
            responseTimer.cancel(false);
            responseTimer = null;
        }
        Exchange ex = exchange;
        if (ex != null) {
            ex.onClientClosed();
        }
        releaseQueued();
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && exchange != null && exchange.tunneling()) {
            // Nothing went either way through the tunnel for tunnel-idle.
            closeNow();
            return;
        }
        if (evt instanceof IdleStateEvent || evt == DRAIN) {
            // client-idle or shutdown: a connection with no request in progress is closed now;
            // one waiting for its response closes after it (or by the response timeout); one
            // whose client stopped sending the body it announced gets 408.
            Exchange ex = exchange;
            if (ex == null) {
                closeNow();
            } else if (evt instanceof IdleStateEvent && ex.wantsRequestData()) {
                ex.onClientIdleMidRequest();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("client connection {} failed: {}", ctx.channel().id(), cause.toString());
        closeNow();
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
    public void startTunnel(HttpResponse switching) {
        ctx.writeAndFlush(switching, ctx.voidPromise());
        ChannelPipeline p = ctx.pipeline();
        p.remove(Http1Encoder.class);
        // Both directions count as activity from now on.
        IdleStateHandler idle = new IdleStateHandler(0, 0, tunnelIdleNanos, TimeUnit.NANOSECONDS);
        if (p.get(IdleStateHandler.class) != null) {
            p.replace(IdleStateHandler.class, "tunnel-idle", idle);
        } else {
            p.addBefore(ctx.name(), "tunnel-idle", idle);
        }
        // Removed last: bytes the client sent after its request come to channelRead, for the tunnel.
        p.remove(Http1Decoder.class);
        // Reading stopped when the request was complete; the tunnel reads as long as the backend can take it.
        ctx.read();
    }

    @Override
    public void writeTunnel(ByteBuf data) {
        ctx.write(data, ctx.voidPromise());
    }

    @Override
    public void upgradeRefused() {
        Http1Decoder decoder = ctx.pipeline().get(Http1Decoder.class);
        if (decoder != null) {
            decoder.resume();
        }
    }

    @Override
    public void flushToClient() {
        ctx.flush();
    }

    /** The response broke after it began: the client sees a truncated response and a close. */
    @Override
    public void abortResponse(Exchange ex) {
        closeNow();
    }

    @Override
    public void writeError(Exchange ex, HttpResponseStatus status, String message, boolean close, boolean retryAfter) {
        writeError(ex, ex.requestId(), status, message, close, retryAfter ? "1" : null);
    }

    /** @param retryAfter the seconds of {@code Retry-After}, or {@code null} for none */
    private void writeError(Exchange ex, String requestId, HttpResponseStatus status, String message, boolean close,
            String retryAfter) {
        // The connection closes after the error when the client asked for that (RFC 9112 section 9.6).
        boolean closeAfter = close || proxy.draining() || (ex != null && ex.closesConnection());
        FullHttpResponse response = ErrorResponses.json(ctx.alloc(), status, message, requestId, closeAfter);
        if (retryAfter != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        String decision = ex == null ? null : ex.decisionForClient();
        if (decision != null) {
            response.headers().set(Exchange.DECISION_HEADER, decision);
        }
        if (close) {
            writeAndLinger(response);
        } else if (closeAfter) {
            closing = true;
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response, ctx.voidPromise());
        }
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
        if (closing) {
            return;
        }
        if (!ex.requestComplete()) {
            if (!ex.bodyless()) {
                // Answered before the whole body arrived: the rest of it is not worth reading.
                closeAfterFlush();
                return;
            }
            discardingBody = true;
        }
        if (proxy.draining() || ex.closesConnection()) {
            // No request after this one is processed (RFC 9112 section 9.6).
            closeAfterFlush();
            return;
        }
        if (dispatching) {
            return;
        }
        if (queued != null && !queued.isEmpty()) {
            // Serve the next pipelined request on a later turn of the loop: the backend
            // connection just pooled may still be inside its read, with bytes its decoder holds.
            ctx.executor().execute(this::serveQueued);
            return;
        }
        if (exchange == null || exchange.wantsRequestData()) {
            if (exchange != null) {
                exchange.flushToBackend();
            }
            readRequest();
        }
    }

    private void serveQueued() {
        if (closing || exchange != null) {
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
        while (queued != null && !queued.isEmpty() && !closing
                && (exchange == null || !exchange.requestComplete())) {
            dispatch(queued.poll());
            if (exchange != null && exchange.isDone()) {
                exchange = null;
            }
        }
        if (exchange != null) {
            exchange.flushToBackend();
        }
    }

    /**
     * Sends a final error and closes lingeringly (nginx's lingering_close): the client may still
     * be sending the body of the request being refused, and closing a socket with unread input
     * makes the kernel send a reset that can destroy the response before the client reads it.
     * So: write, shut down output (FIN after the response), read and drop whatever still arrives
     * for at most {@link #LINGER_MILLIS}, then close.
     */
    private void writeAndLinger(FullHttpResponse response) {
        closing = true;
        releaseQueued();
        ctx.writeAndFlush(response).addListener(written -> {
            Channel ch = ctx.channel();
            if (!written.isSuccess() || !(ch instanceof DuplexChannel) || !ch.isActive()) {
                ch.close();
                return;
            }
            ((DuplexChannel) ch).shutdownOutput().addListener(shut -> {
                lingering = true;
                ch.eventLoop().schedule(() -> {
                    ch.close();
                }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
                ctx.read();
            });
        });
    }

    /** Closes at once, with whatever was written flushed first. */
    void closeNow() {
        closing = true;
        releaseQueued();
        ctx.flush();
        ctx.close();
    }

    private void closeAfterFlush() {
        closing = true;
        releaseQueued();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void releaseQueued() {
        if (queued != null) {
            Object msg;
            while ((msg = queued.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    /** The client's X-Request-Id when it is sane, else a new random 128-bit id. */
    private static String requestId(HttpRequest request) {
        String id = request.headers().get(HeaderRules.X_REQUEST_ID);
        if (id != null && !id.isEmpty() && id.length() <= MAX_REQUEST_ID_LENGTH) {
            return id;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        byte[] out = new byte[32];
        long hi = random.nextLong();
        long lo = random.nextLong();
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xF];
            out[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xF];
        }
        return new String(out, StandardCharsets.ISO_8859_1);
    }
}
