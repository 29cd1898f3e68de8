package io.fulcrum.balancer.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.net.SocketAddress;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
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
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final ProxyContext proxy;
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
        this.proxy = proxy;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        SocketAddress remote = ctx.channel().remoteAddress();
        clientAddress = remote instanceof InetSocketAddress
                ? ((InetSocketAddress) remote).getAddress().getHostAddress()
                : String.valueOf(remote);
        remoteAddress = remote instanceof InetSocketAddress i ? i.getAddress() : null;
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inReadBatch = true;
        if (closing) {
            ReferenceCountUtil.release(msg);
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
        RequestFacts facts = facts(request, settings);
        if (rejection != null) {
            discardingBody = true;
            recordRejection(facts, requestId, rejection);
            writeError(null, requestId, rejection.status(), rejection.message(), true, false);
            return;
        }
        String region = settings.regionHeader() == null ? null : request.headers().get(settings.regionHeader());
        // The exchange reads the client's HTTP version before the rewrite makes it HTTP/1.1.
        Exchange ex = new Exchange(this, proxy, settings, request, requestId, region, clientAddress);
        ex.facts(facts);
        HeaderRules.prepareRequest(request, clientAddress, requestId);
        if (facts.spanId() != null) {
            // No valid traceparent came in: this request starts a trace (its tracestate goes too).
            request.headers().remove(TraceContext.TRACESTATE);
            request.headers().set(TraceContext.TRACEPARENT, "00-" + facts.traceId() + "-" + facts.spanId() + "-00");
        }
        exchange = ex;
        ex.start();
    }

    /**
     * The request's facts as plain values, read before the head is rewritten; a request without a
     * valid {@code traceparent} gets a new trace id here.
     */
    private RequestFacts facts(HttpRequest request, ProxySettings settings) {
        String traceparent = request.headers().get(TraceContext.TRACEPARENT);
        String traceId = TraceContext.traceId(traceparent);
        String spanId = null;
        if (traceId == null) {
            String started = TraceContext.start();
            traceId = started.substring(3, 35);
            spanId = started.substring(36, 52);
        }
        DebugAccess debug = settings.debug();
        return new RequestFacts(System.currentTimeMillis(), request.method().name(), request.uri(),
                request.headers().get(HttpHeaderNames.HOST), request.headers().get(HttpHeaderNames.USER_AGENT),
                request.protocolVersion().text(), traceId, spanId,
                debug != null && debug.allows(request.headers().contains(debug.header()), remoteAddress));
    }

    /** A request refused before any exchange began (malformed, too large): metered and logged here. */
    private void recordRejection(RequestFacts facts, String requestId, RequestValidator.Rejection rejection) {
        RequestRecord r = new RequestRecord(facts.startEpochMillis(), requestId, facts.traceId(), clientAddress,
                facts.method(), facts.host(), facts.target(), facts.protocol(), rejection.status().code(),
                RequestRecord.COMPLETED, 0, 0, 0, 0, facts.userAgent(), null, List.of(), null, rejection.message());
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
        writeError(ex, ex.requestId(), status, message, close, retryAfter);
    }

    private void writeError(Exchange ex, String requestId, HttpResponseStatus status, String message, boolean close,
            boolean retryAfter) {
        boolean closeAfter = close || proxy.draining();
        FullHttpResponse response = ErrorResponses.json(ctx.alloc(), status, message, requestId, closeAfter);
        if (retryAfter) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
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
        if (ctx.pipeline().get(HttpServerKeepAliveHandler.class) != null) {
            // It would close the connection as soon as the response is written.
            ctx.pipeline().remove(HttpServerKeepAliveHandler.class);
        }
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
        char[] out = new char[32];
        long hi = random.nextLong();
        long lo = random.nextLong();
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xF];
            out[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xF];
        }
        return new String(out);
    }
}
