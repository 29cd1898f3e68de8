package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.LoadBalancer;
import io.fulcrum.balancer.routing.Outcome;
import io.fulcrum.balancer.routing.RequestInfo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * One client request and its way to a response: backend choice, connection, streaming both ways,
 * the response timeout, and retries on another backend where DESIGN.md's rules allow them.
 *
 * <p>Deadlines: {@code timeouts.response} bounds the client's whole wait, from its request complete
 * to the response head, whatever the number of tries; each retry gets what remains, and when it
 * runs out the client has its 504. {@code retry.per-try-timeout} bounds one try inside it, from its
 * request sent to the response head.
 *
 * <p>Body parts that may have to be sent again are kept (retained) while the body stays under the
 * replay limit; past it they are sent once and dropped, and the request is no longer retried once
 * any of it reached a backend.
 *
 * <p>Not thread safe: confined to the client channel's event loop, which also runs the backend
 * connection.
 */
final class Exchange implements ChannelFutureListener {
    private final ProxyFrontendHandler frontend;
    private final ChannelHandlerContext client;
    private final ProxyContext proxy;
    private final ProxySettings settings;
    private final HttpRequest request;
    private final String requestId;
    private final HttpVersion clientVersion;
    private final boolean head;
    private final boolean retryableAfterSend;
    private final boolean bodyless;
    /** The client asked to keep the connection (read before the hop-by-hop headers go). */
    private final boolean clientKeepAlive;
    /** The response sent to the client ends at the connection's close (HTTP/1.0, no length). */
    private boolean closeDelimited;
    private final RequestInfo routingInfo;
    private final String clientAddress;
    private final long startNanos = System.nanoTime();
    /** The status the client got (499 when it left first), for the access log. */
    private int clientStatus = 499;
    private String servedBy;

    /** Body parts not yet released: all of them while replayable, else only those not yet sent. */
    private final List<HttpContent> body = new ArrayList<>(2);
    private int bodyWritten;
    private boolean replayable = true;
    private long bodyBytes;
    private boolean requestComplete;

    private List<Backend> tried = List.of();
    /** Tries made so far, the current one included (for the access log). */
    private int tries;
    /** Retries after tries that reached a backend; bounded by {@code retry.attempts}. */
    private int retriesAfterSend;
    /** Tries that failed before reaching a backend (connect failures). */
    private int unsentFailures;
    private boolean holdingRetrySlot;
    /** When the client's whole wait ends (System.nanoTime), or 0 before the request is complete. */
    private long overallDeadline;

    private Backend backend;
    private Channel backendChannel;
    private ProxyBackendHandler backendHandler;
    private long tryStartNanos;
    /** When this try's request was completely written, or 0 before. */
    private long sentNanos;
    private long firstByteNanos;
    private boolean connecting;
    private boolean reachedBackend;
    private boolean interim;
    private boolean responseStarted;
    private boolean backendReusable;
    private int responseStatus;
    /** When this try's response head is due by the per-try timeout, or 0 when none applies. */
    private long tryDeadline;
    private boolean done;
    private boolean hostFromBackend;

    Exchange(ProxyFrontendHandler frontend, ChannelHandlerContext client, ProxyContext proxy, ProxySettings settings,
            HttpRequest request, String requestId, String clientRegion, String clientAddress) {
        this.clientAddress = clientAddress;
        this.frontend = frontend;
        this.client = client;
        this.proxy = proxy;
        this.settings = settings;
        this.request = request;
        this.requestId = requestId;
        this.clientVersion = request.protocolVersion();
        this.head = HttpMethod.HEAD.equals(request.method());
        this.retryableAfterSend = isRetryableAfterSend(request);
        this.bodyless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
        this.clientKeepAlive = HttpUtil.isKeepAlive(request);
        this.routingInfo = clientRegion == null ? RequestInfo.DEFAULT : new RequestInfo(clientRegion, List.of());
    }

    /** GET, HEAD, PUT, DELETE, OPTIONS, TRACE, and POST/PATCH carrying an Idempotency-Key. */
    private static boolean isRetryableAfterSend(HttpRequest request) {
        HttpMethod m = request.method();
        if (m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.PUT || m == HttpMethod.DELETE
                || m == HttpMethod.OPTIONS || m == HttpMethod.TRACE) {
            return true;
        }
        return request.headers().contains("idempotency-key");
    }

    String requestId() {
        return requestId;
    }

    HttpVersion clientVersion() {
        return clientVersion;
    }

    boolean isDone() {
        return done;
    }

    boolean requestComplete() {
        return requestComplete;
    }

    /**
     * Whether the connection must close after this exchange (RFC 9112 section 9.6): the client
     * said so, or the response had to be close-delimited. Pipelined requests after it are dropped.
     */
    boolean closesConnection() {
        return !clientKeepAlive || closeDelimited;
    }

    /** Whether the request announced no body, so only an empty last part is still to come. */
    boolean bodyless() {
        return bodyless;
    }

    /** Whether the frontend should read more of the request body now. */
    boolean wantsRequestData() {
        return !done && !requestComplete && backendChannel != null && !connecting && backendChannel.isWritable();
    }

    /** Starts the first try. {@code request} was already rewritten by {@link HeaderRules}. */
    void start() {
        proxy.retryBudget().requestStarted();
        tryBackend();
    }

    // ---- client side ----

    /** A part of the request body; ownership passes to this exchange. */
    void onRequestContent(HttpContent content) {
        if (done) {
            content.release();
            return;
        }
        bodyBytes += content.content().readableBytes();
        if (bodyBytes > settings.maxBodyBytes()) {
            content.release();
            abort(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large");
            return;
        }
        if (content instanceof LastHttpContent) {
            requestComplete = true;
            armOverallDeadline();
        }
        if (replayable && bodyBytes > settings.replayBodyBytes()) {
            stopKeepingBody();
        }
        body.add(content);
        if (backendChannel != null && !connecting) {
            writePendingBody();
            if (requestComplete) {
                onRequestSent();
            }
        }
    }

    /** The request body's framing broke (e.g. an invalid chunk size): cancel and answer 400. */
    void onMalformedRequestBody() {
        if (!done) {
            abort(HttpResponseStatus.BAD_REQUEST, "malformed request body");
        }
    }

    /** The client connection closed before the exchange ended: cancel the backend request. */
    void onClientClosed() {
        if (done) {
            return;
        }
        if (backend != null) {
            endTry(Outcome.CANCELLED);
            closeBackend();
        }
        finish();
    }

    /** The client can take more response bytes. */
    void onClientWritable() {
        if (responseStarted && backendChannel != null && !done) {
            backendChannel.read();
        }
    }

    // ---- backend choice and connection ----

    private void tryBackend() {
        LoadBalancer lb = proxy.registry().current().loadBalancer();
        RequestInfo info = tried.isEmpty() ? routingInfo : new RequestInfo(routingInfo.clientRegion(), tried);
        Backend chosen = lb.select(info);
        if (chosen != null && !chosen.tryAcquire()) {
            // Lost a race for the last slot; one more choice before giving up.
            chosen = lb.select(info);
            if (chosen != null && !chosen.tryAcquire()) {
                chosen = null;
            }
        }
        if (chosen == null) {
            fail(UpstreamFailure.NO_BACKEND);
            return;
        }
        backend = chosen;
        tries++;
        tryStartNanos = System.nanoTime();
        sentNanos = 0;
        firstByteNanos = 0;
        tryDeadline = 0;
        reachedBackend = false;
        Channel pooled = proxy.pool().poll(chosen.poolKey());
        if (pooled != null) {
            attach(pooled);
            writeRequest();
            return;
        }
        connecting = true;
        ChannelFuture connect = proxy.pool().connect(chosen.poolKey(), chosen.address(), client.channel().eventLoop());
        backendChannel = connect.channel();
        connect.addListener(this);
    }

    /** Connect completion (this object is its own listener to save an allocation per connect). */
    @Override
    public void operationComplete(ChannelFuture future) {
        if (future.channel() != backendChannel || !connecting) {
            future.channel().close();
            return;
        }
        connecting = false;
        if (done) {
            future.channel().close();
            return;
        }
        if (!future.isSuccess()) {
            backendChannel = null;
            tryFailed(Outcome.CONNECT_FAILURE);
            return;
        }
        attach(future.channel());
        writeRequest();
    }

    private void attach(Channel ch) {
        backendChannel = ch;
        backendHandler = (ProxyBackendHandler) ch.pipeline().last();
        backendHandler.bind(this);
    }

    private void writeRequest() {
        Channel ch = backendChannel;
        reachedBackend = true;
        if (hostFromBackend || !request.headers().contains(HttpHeaderNames.HOST)) {
            // An HTTP/1.0 client may omit Host; the HTTP/1.1 request to the backend must not.
            hostFromBackend = true;
            request.headers().set(HttpHeaderNames.HOST, backend.config().url().substring("http://".length()));
        }
        ch.write(request, ch.voidPromise());
        bodyWritten = 0;
        writePendingBody();
        if (!frontend.inReadBatch()) {
            // Inside a client read the flush waits for channelReadComplete: one write for head and
            // body, and nothing sent at all if the same read turns out to be malformed.
            ch.flush();
        }
        if (requestComplete) {
            onRequestSent();
        }
        ch.read();
        if (!requestComplete && ch.isWritable()) {
            frontend.readRequest();
        }
    }

    /** Writes the body parts the current backend has not had yet. */
    private void writePendingBody() {
        Channel ch = backendChannel;
        if (replayable) {
            for (int i = bodyWritten; i < body.size(); i++) {
                ch.write(body.get(i).retainedDuplicate(), ch.voidPromise());
            }
            bodyWritten = body.size();
        } else {
            for (int i = 0; i < body.size(); i++) {
                ch.write(body.get(i), ch.voidPromise());
            }
            body.clear();
            bodyWritten = 0;
        }
    }

    /** The body grew past the replay limit: parts already sent are dropped, the rest kept until sent. */
    private void stopKeepingBody() {
        replayable = false;
        if (backendChannel != null && !connecting) {
            for (int i = 0; i < bodyWritten; i++) {
                body.get(i).release();
            }
            body.subList(0, bodyWritten).clear();
            bodyWritten = 0;
        }
    }

    /** This try's request is completely written: latency is measured from here; per-try timer. */
    private void onRequestSent() {
        if (sentNanos != 0) {
            return;
        }
        sentNanos = System.nanoTime();
        long perTry = settings.perTryTimeoutNanos();
        if (perTry > 0) {
            tryDeadline = sentNanos + perTry;
            if (overallDeadline == 0 || tryDeadline - overallDeadline < 0) {
                frontend.armResponseTimer(tryDeadline);
            }
        }
    }

    /** The client's request is complete: its whole wait for a response head starts now. */
    private void armOverallDeadline() {
        if (overallDeadline == 0 && !done) {
            overallDeadline = System.nanoTime() + settings.responseTimeoutNanos();
            frontend.armResponseTimer(overallDeadline);
        }
    }

    /**
     * When the next response deadline falls (the per-try one or the client's whole wait, whichever
     * is first), or 0 when this exchange is not waiting for a response head.
     */
    long responseDeadline() {
        if (done || responseStarted) {
            return 0;
        }
        if (tryDeadline == 0) {
            return overallDeadline;
        }
        return overallDeadline == 0 || tryDeadline - overallDeadline < 0 ? tryDeadline : overallDeadline;
    }

    /** Flushes what the client side wrote to the backend during one read. */
    void flushToBackend() {
        if (backendChannel != null && !connecting) {
            backendChannel.flush();
        }
    }

    /**
     * The backend connection read nothing for {@code backend-idle}. Before the response that is
     * the response timeout's business; after it began, a backend that stalls mid-body while the
     * client could take more is given up on: the client sees a truncated response and a close.
     */
    void onBackendIdle() {
        if (done || !responseStarted || !client.channel().isWritable()) {
            return;
        }
        Channel ch = backendChannel;
        detachBackend();
        if (ch != null) {
            ch.close();
        }
        endTry(Outcome.TIMEOUT);
        frontend.abortResponse(this);
        finish();
    }

    /** The client sent nothing for {@code client-idle} while its request body was awaited: 408. */
    void onClientIdleMidRequest() {
        if (!done) {
            abort(HttpResponseStatus.REQUEST_TIMEOUT, "request body timed out");
        }
    }

    /**
     * A response deadline passed (the frontend's timer found {@link #responseDeadline()} due). Past
     * the client's whole wait the client gets its 504 now; past only the per-try timeout, the try
     * fails and may be retried with the time that remains.
     */
    void onResponseTimeout() {
        if (done || responseStarted) {
            return;
        }
        boolean overall = overallDeadline != 0 && System.nanoTime() - overallDeadline >= 0;
        tryDeadline = 0;
        boolean wasConnecting = connecting;
        Channel ch = backendChannel;
        detachBackend();
        if (ch != null) {
            ch.close();
        }
        if (overall) {
            if (backend != null) {
                // A try cut short while still connecting says nothing about the backend's answers.
                endTry(wasConnecting ? Outcome.CANCELLED : Outcome.TIMEOUT);
            }
            fail(UpstreamFailure.RESPONSE_TIMEOUT);
            return;
        }
        tryFailed(Outcome.TIMEOUT);
    }

    // ---- backend side ----

    void onResponseHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            Channel ch = backendChannel;
            detachBackend();
            ch.close();
            if (responseStarted) {
                endTry(Outcome.RESET);
                frontend.abortResponse(this);
                finish();
            } else {
                tryFailed(Outcome.RESET);
            }
            return;
        }
        int code = response.status().code();
        if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            if (code == 101) {
                // Fulcrum never asks for an upgrade (Upgrade is hop-by-hop and removed).
                Channel ch = backendChannel;
                detachBackend();
                ch.close();
                tryFailed(Outcome.RESET);
                return;
            }
            interim = true;
            if (code == 100 && HttpUtil.is100ContinueExpected(request) && clientVersion == HttpVersion.HTTP_1_1) {
                frontend.writeInterim(response);
            }
            return;
        }
        if (code > 599 || code < 100) {
            // RFC 9110 section 15: a status is three digits, 100 to 599; anything else is a
            // malformed response (the codec already refuses other than three digits).
            Channel ch = backendChannel;
            detachBackend();
            ch.close();
            tryFailed(Outcome.RESET);
            return;
        }
        if (firstByteNanos == 0) {
            firstByteNanos = System.nanoTime();
        }
        responseStatus = code;
        if ((code == 502 || code == 503 || code == 504) && retryAllowed(true)) {
            // Drop this answer and its connection; another backend gets the request.
            Channel ch = backendChannel;
            detachBackend();
            ch.close();
            retry(Outcome.SERVER_ERROR, true);
            return;
        }
        tryDeadline = 0;
        backendReusable = HttpUtil.isKeepAlive(response);
        boolean bodyless = head || code == 204 || code == 304;
        closeDelimited = HeaderRules.prepareResponse(response, clientVersion, bodyless, requestId,
                settings.backendHeader(), backend.id());
        if (proxy.draining()) {
            // The connection closes after this response; say so (RFC 9112 section 9.6).
            HttpUtil.setKeepAlive(response, false);
        }
        responseStarted = true;
        clientStatus = code;
        servedBy = backend.id();
        frontend.writeResponse(response);
    }

    void onResponseContent(HttpContent content) {
        if (interim) {
            // The end of a 1xx interim response; the final response follows.
            content.release();
            if (content instanceof LastHttpContent) {
                interim = false;
            }
            return;
        }
        if (done || !responseStarted) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            content.release();
            Channel ch = backendChannel;
            detachBackend();
            ch.close();
            endTry(Outcome.RESET);
            frontend.abortResponse(this);
            finish();
            return;
        }
        boolean last = content instanceof LastHttpContent;
        frontend.writeResponse(content);
        if (last) {
            completeTry();
        }
    }

    void onBackendReadComplete() {
        if (done) {
            return;
        }
        frontend.flushToClient();
        if (backendChannel != null && (!responseStarted || client.channel().isWritable())) {
            backendChannel.read();
        }
    }

    void onBackendWritable() {
        if (!requestComplete && !done) {
            frontend.readRequest();
        }
    }

    /** The backend connection closed under this exchange. */
    void onBackendClosed(Channel ch) {
        if (ch != backendChannel || done) {
            return;
        }
        detachBackend();
        if (responseStarted) {
            // Part of the response reached the client; the only honest remedy is to close.
            endTry(Outcome.RESET);
            frontend.abortResponse(this);
            finish();
            return;
        }
        tryFailed(Outcome.RESET);
    }

    private void completeTry() {
        Channel ch = backendChannel;
        boolean reuse = backendReusable && requestComplete;
        detachBackend();
        endTry(responseStatus >= 500 ? Outcome.SERVER_ERROR : Outcome.SUCCESS);
        if (reuse) {
            proxy.pool().release(ch);
        } else {
            ch.close();
        }
        // finish() ends in ProxyFrontendHandler.exchangeDone, which flushes the response's end.
        finish();
    }

    // ---- failures and retries ----

    private void tryFailed(Outcome outcome) {
        if (done) {
            return;
        }
        boolean sent = reachedBackend;
        if (!sent) {
            unsentFailures++;
        }
        // The outcome is reported before the retry is decided: a backend that just lost its
        // connection counts among the dead ones that size the retry budget's burst.
        Backend failed = backend;
        endTry(outcome);
        if (retryAllowed(sent)) {
            retryAfter(failed, sent);
            return;
        }
        fail(switch (outcome) {
            case CONNECT_FAILURE -> UpstreamFailure.CONNECT_FAILED;
            case TIMEOUT -> UpstreamFailure.RESPONSE_TIMEOUT;
            default -> sent ? UpstreamFailure.RESET_BEFORE_RESPONSE : UpstreamFailure.CONNECT_FAILED;
        });
    }

    /**
     * Whether another try is allowed after the current one failed ({@link RetryPolicy}), within the
     * client's deadline. Takes a retry-budget slot when a retry needs one; a request keeps its slot
     * for its later retries.
     *
     * @param sent whether the request (any byte of it) reached the failed backend
     */
    private boolean retryAllowed(boolean sent) {
        if (overallDeadline != 0 && System.nanoTime() - overallDeadline >= 0) {
            return false;
        }
        List<Backend> pool = proxy.registry().current().backends();
        int poolSize = pool.size();
        RetryPolicy.Decision decision = RetryPolicy.decide(sent, responseStarted, retryableAfterSend && replayable,
                retriesAfterSend, settings.retryAttempts(), unsentFailures, poolSize);
        switch (decision) {
            case RETRY_FREE:
                return true;
            case RETRY:
                if (!holdingRetrySlot) {
                    holdingRetrySlot = proxy.retryBudget().tryStartRetry(poolSize, unreachable(pool));
                }
                return holdingRetrySlot;
            default:
                return false;
        }
    }

    /** Slow path (a retry is being decided): backends whose last try lost its connection. */
    private static int unreachable(List<Backend> pool) {
        int n = 0;
        for (int i = 0, size = pool.size(); i < size; i++) {
            if (pool.get(i).state().unreachable()) {
                n++;
            }
        }
        return n;
    }

    /** Ends the current try with {@code outcome} and starts the next one. */
    private void retry(Outcome outcome, boolean sent) {
        Backend failed = backend;
        endTry(outcome);
        retryAfter(failed, sent);
    }

    /** Starts the next try after the one at {@code failed} ended. */
    private void retryAfter(Backend failed, boolean sent) {
        if (tried.isEmpty()) {
            tried = new ArrayList<>(settings.retryAttempts() + 2);
        }
        if (failed != null) {
            tried.add(failed);
        }
        if (sent) {
            retriesAfterSend++;
        }
        proxy.retryBudget().recordRetry();
        bodyWritten = 0;
        tryBackend();
    }

    /** Ends the current try at its backend: frees the in-flight slot and reports the outcome. */
    private void endTry(Outcome outcome) {
        Backend b = backend;
        if (b == null) {
            return;
        }
        backend = null;
        long end = firstByteNanos != 0 ? firstByteNanos : System.nanoTime();
        // Latency runs from the request completely sent to the response's first byte, so neither
        // connecting nor a slow client's upload counts against the backend.
        b.state().onRequestEnd(end - (sentNanos != 0 ? sentNanos : tryStartNanos), outcome);
        proxy.outcomeListener().onOutcome(b, outcome);
        tryDeadline = 0;
    }

    private void detachBackend() {
        if (backendHandler != null) {
            backendHandler.unbind();
            backendHandler = null;
        }
        backendChannel = null;
        connecting = false;
    }

    private void closeBackend() {
        Channel ch = backendChannel;
        detachBackend();
        if (ch != null) {
            ch.close();
        }
    }

    private void fail(UpstreamFailure failure) {
        if (done) {
            return;
        }
        closeBackend();
        clientStatus = failure.status().code();
        frontend.writeError(this, failure.status(), failure.message(), !requestComplete && !bodyless,
                failure == UpstreamFailure.NO_BACKEND);
        finish();
    }

    /** Ends the exchange with an error of the balancer's own (body too large). */
    private void abort(HttpResponseStatus status, String message) {
        if (backend != null) {
            endTry(Outcome.CANCELLED);
        }
        closeBackend();
        if (responseStarted) {
            frontend.abortResponse(this);
        } else {
            clientStatus = status.code();
            frontend.writeError(this, status, message, true, false);
        }
        finish();
    }

    private void finish() {
        if (done) {
            return;
        }
        // The frontend's timer is shared by the connection's requests; it finds no deadline here
        // and re-arms for the next one, so nothing is scheduled or cancelled per request.
        done = true;
        for (int i = 0; i < body.size(); i++) {
            ReferenceCountUtil.release(body.get(i));
        }
        body.clear();
        if (holdingRetrySlot) {
            holdingRetrySlot = false;
            proxy.retryBudget().retryEnded();
        }
        proxy.retryBudget().requestEnded();
        AccessLog accessLog = proxy.accessLog();
        if (accessLog.enabled()) {
            accessLog.log(clientAddress, request.method().name(), request.uri(), clientStatus, servedBy, tries,
                    System.nanoTime() - startNanos, requestId);
        }
        frontend.exchangeDone(this);
    }

    @Override
    public String toString() {
        return request.method() + " " + request.uri() + " [" + requestId + "]"
                + (request.headers().contains(HttpHeaderNames.HOST) ? "" : " (no host)");
    }
}
