package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Affinity;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.edge.AffinityRules;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.http1.codec.Upgrades;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.balancer.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

/**
 * One client request and its way to a response, as an explicit state machine ({@link ExchangeState}).
 *
 * <p>As Envoy's router filter is to its upstream requests, the exchange holds what spans tries: the
 * state, the retries ({@link Tries}, {@link RetryPolicy}, the retry budget), the request body in a
 * {@link ReplayBuffer}, the client's overall deadline ({@link ResponseDeadlines}), the choice of a
 * backend and a wait in the pool's queue ({@link BackendChoice}), and the client connection, reached
 * only through {@link ClientSide} (and a {@link TunnelSide} for an upgrade request). Each try is one
 * {@link UpstreamTry} (its backend slot, connection, request write, per-try deadline and outcome),
 * which reports back through {@link UpstreamTry.Listener}; a retry is a new one. The backend's head
 * is made ready for the client by {@link ClientResponse}; a switched protocol is relayed by a
 * {@link Tunnel}; what the access log and the meters hear at the end is gathered in an
 * {@link ExchangeReport}. Transitions are checked with {@code assert}, so an impossible one fails
 * the tests loudly and costs nothing in production.
 *
 * <p>Not thread safe: confined to the client channel's event loop, which also runs the backend
 * connection.
 */
public final class Exchange implements UpstreamTry.Listener {
    /** The response header of the full decision trace, for trusted clients that ask for it. */
    public static final AsciiString DECISION_HEADER = AsciiString.cached("X-Fulcrum-Decision");

    private final ClientSide client;
    /**
     * The client connection's side for switching protocols: present only when the request asks to
     * upgrade on a connection that can switch, else {@code null}.
     */
    private final TunnelSide tunnelSide;
    private final ProxyContext proxy;
    /** The pool the request's route chose; every try stays in it. */
    private final BackendPool pool;
    private final ProxySettings settings;
    private final HttpRequest request;
    private final String requestId;
    /** The method (or an Idempotency-Key) allows sending the request again after a backend saw it. */
    private final boolean repeatable;
    private final boolean bodyless;
    /** The protocols an upgrade request asks for ({@link Upgrades}), or {@code null}. */
    private final String upgrade;
    private final ReplayBuffer body;
    private final Tries tries;
    private final BackendChoice choice;
    private final ResponseDeadlines deadlines;
    private final ClientResponse response;
    private final ExchangeReport report;

    private ExchangeState state = ExchangeState.SELECTING;
    /** The current try; {@code null} between tries and once done. */
    private UpstreamTry upstream;
    private boolean hostFromBackend;
    /** The relay of a switched protocol while TUNNELING, else {@code null}. */
    private Tunnel tunnel;

    Exchange(ClientSide client, TunnelSide tunnels, ProxyContext proxy, ProxySettings settings, HttpRequest request,
            String requestId, String clientRegion, String clientAddress) {
        this(client, tunnels, proxy, proxy.firstPool(), null, settings, request, requestId, clientRegion,
                clientAddress);
    }

    /**
     * @param tunnels the connection's side for switching protocols, or {@code null} where it
     *     cannot switch (an HTTP/2 stream); kept only when the request asks to upgrade
     * @param pool the pool {@code route} chose
     * @param route the route of the request, or {@code null} when there are no route edits
     * @param settings the pool's settings
     */
    Exchange(ClientSide client, TunnelSide tunnels, ProxyContext proxy, BackendPool pool, Route<BackendPool> route,
            ProxySettings settings, HttpRequest request, String requestId, String clientRegion, String clientAddress) {
        this.client = client;
        this.proxy = proxy;
        this.pool = pool;
        this.settings = settings;
        this.request = request;
        this.requestId = requestId;
        this.repeatable = RetryPolicy.repeatable(request);
        this.bodyless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
        this.upgrade = tunnels == null ? null : Upgrades.requested(request);
        this.tunnelSide = upgrade == null ? null : tunnels;
        Affinity affinity = pool.registry().current().loadBalancer().affinity();
        this.tries = new Tries(AffinityRules.routing(affinity, request, clientAddress, clientRegion));
        this.choice = new BackendChoice(pool, settings, proxy);
        this.deadlines = new ResponseDeadlines(client, settings);
        this.response = new ClientResponse(request, requestId, settings, route, affinity);
        this.report = new ExchangeReport(requestId, clientAddress, proxy.clock().nanoTime(),
                route == null ? null : route.name(), pool.name());
        this.body = new ReplayBuffer(settings.replayBodyBytes());
    }

    /** The request's facts for the access log and the meters; set by the frontend before {@link #start()}. */
    void facts(RequestFacts facts) {
        report.facts(facts);
    }

    /**
     * The full decision trace of the last selection when this client asked for it and may see it,
     * else {@code null}; for the balancer's own error responses (a 503 says why nothing was chosen).
     */
    public String decisionForClient() {
        return choice.detailedTrace(report.debug());
    }

    private void transition(ExchangeState next) {
        assert state.canGoTo(next) : "exchange " + requestId + ": " + state + " -> " + next;
        state = next;
    }

    ExchangeState state() {
        return state;
    }

    public String requestId() {
        return requestId;
    }

    public boolean isDone() {
        return state == ExchangeState.DONE;
    }

    public boolean requestComplete() {
        return body.complete();
    }

    /**
     * Whether the connection must close after this exchange (RFC 9112 section 9.6): the client
     * said so, or the response had to be close-delimited. Pipelined requests after it are dropped.
     */
    public boolean closesConnection() {
        return response.closesConnection();
    }

    /** Whether the request announced no body, so only an empty last part is still to come. */
    public boolean bodyless() {
        return bodyless;
    }

    /** Whether the frontend should read more of the request body now. */
    public boolean wantsRequestData() {
        if (state == ExchangeState.TUNNELING) {
            return upstream != null && upstream.writable();
        }
        return state != ExchangeState.DONE && !body.complete() && upstream != null && upstream.writable();
    }

    /** Starts the first try. {@code request} was already rewritten by {@link HeaderRules}. */
    public void start() {
        if (upgrade != null) {
            // The hop-by-hop rewrite removed them; an upgrade is asked of the backend hop by hop.
            request.headers().set(HttpHeaderNames.UPGRADE, upgrade).set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        }
        pool.retryBudget().requestStarted();
        select(false);
    }

    // ---- client side ----

    /** A part of the request body; ownership passes to this exchange. */
    public void onRequestContent(HttpContent content) {
        if (state == ExchangeState.DONE) {
            content.release();
            return;
        }
        if (body.bytesWith(content) > settings.maxBodyBytes()) {
            content.release();
            abort(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large");
            return;
        }
        report.received(content.content().readableBytes());
        body.add(content);
        if (body.complete()) {
            // The client's whole wait for a response head starts now; a request announced without
            // a body was complete when its head was read.
            deadlines.requestComplete(bodyless ? report.startNanos() : proxy.clock().nanoTime());
        }
        UpstreamTry t = upstream;
        if (t != null && t.connected()) {
            t.writeBody(body);
            if (body.complete()) {
                requestSent(proxy.clock().nanoTime());
            }
        }
    }

    /** The request body's framing broke (e.g. an invalid chunk size): cancel and answer 400. */
    public void onMalformedRequestBody() {
        if (state != ExchangeState.DONE) {
            abort(HttpResponseStatus.BAD_REQUEST, "malformed request body");
        }
    }

    /** The client connection closed before the exchange ended: cancel the backend request. */
    public void onClientClosed() {
        if (state == ExchangeState.DONE) {
            return;
        }
        // A tunnel ends when either side closes; that is its normal end, not a cancellation.
        boolean tunnelEnd = state == ExchangeState.TUNNELING;
        dropTry(tunnelEnd ? Outcome.SUCCESS : Outcome.CANCELLED);
        if (!tunnelEnd) {
            report.cut();
        }
        finish();
    }

    /** The client can take more response bytes. */
    public void onClientWritable() {
        if ((state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING) && upstream != null) {
            upstream.read();
        }
    }

    /** The client sent nothing for {@code client-idle} while its request body was awaited: 408. */
    public void onClientIdleMidRequest() {
        if (state != ExchangeState.DONE) {
            abort(HttpResponseStatus.REQUEST_TIMEOUT, "request body timed out");
        }
    }

    /** Flushes what the client side wrote to the backend during one read. */
    public void flushToBackend() {
        if (upstream != null) {
            upstream.flush();
        }
    }

    // ---- backend choice and connection ----

    /**
     * Chooses a backend for the next try ({@link BackendChoice}) and gets it a connection. When
     * every backend is full the request waits in the pool's queue, if it has one.
     *
     * @param freshConnection open a new connection instead of reusing an idle one
     */
    private void select(boolean freshConnection) {
        Backend chosen = choice.select(tries.routing(), report.debug());
        if (chosen != null) {
            proceed(chosen, freshConnection);
        } else if (!choice.mayWait()) {
            fail(UpstreamFailure.NO_BACKEND);
        } else if (choice.enqueue(this, client.eventLoop(), freshConnection)) {
            transition(ExchangeState.QUEUED);
            deadlines.queued(choice.queueDeadline());
        } else {
            fail(UpstreamFailure.QUEUE_FULL);
        }
    }

    /** The queue gave this request a turn; it goes on when a backend had room for it. */
    void onQueueTurn(QueueWait wait) {
        if (state != ExchangeState.QUEUED || !choice.waiting(wait)) {
            return;
        }
        Backend chosen = choice.onTurn(tries.routing(), report.debug());
        if (chosen != null) {
            transition(ExchangeState.SELECTING);
            proceed(chosen, wait.freshConnection());
        }
    }

    /** Starts a try at {@code chosen}, whose slot is taken, and gets it a connection. */
    private void proceed(Backend chosen, boolean freshConnection) {
        tries.started();
        // Read after the backend's slot was taken: a try is sent no earlier than the backend's
        // last sign of progress (tryAcquire starts its busy time), so "answered nothing since
        // this try was sent" stays true of a hung backend.
        UpstreamTry t = new UpstreamTry(chosen, pool, proxy, this, proxy.clock().nanoTime());
        upstream = t;
        body.rewind();
        if (t.connect(client.eventLoop(), freshConnection)) {
            transition(ExchangeState.CONNECTING);
        }
    }

    @Override
    public void onConnected(UpstreamTry t, long nowNanos) {
        transition(ExchangeState.SENDING);
        if (hostFromBackend || !request.headers().contains(HttpHeaderNames.HOST)) {
            // An HTTP/1.0 client may omit Host; the HTTP/1.1 request to the backend must not.
            hostFromBackend = true;
            request.headers().set(HttpHeaderNames.HOST, t.backend().config().authority());
        }
        t.write(request, body, !client.inReadBatch());
        if (body.complete()) {
            requestSent(nowNanos);
        }
        t.read();
        if (!body.complete() && t.writable()) {
            client.readRequest();
        }
    }

    /** The current try's request is completely written: latency counts from here; per-try timer. */
    private void requestSent(long nowNanos) {
        UpstreamTry t = upstream;
        if (!t.sent(nowNanos)) {
            return;
        }
        if (state == ExchangeState.SENDING) {
            transition(ExchangeState.AWAITING_HEAD);
        }
        if (state == ExchangeState.AWAITING_HEAD) {
            deadlines.trySent(t);
        }
    }

    /**
     * When the next response deadline falls (the per-try one, the queue wait's, or the client's
     * whole wait, whichever is first), or 0 when this exchange is not waiting for a response head.
     */
    public long responseDeadline() {
        if (state == ExchangeState.DONE || state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING) {
            return 0;
        }
        return deadlines.first(state == ExchangeState.QUEUED ? choice.queueDeadline()
                : upstream == null ? 0 : upstream.deadline());
    }

    /**
     * A response deadline passed (the frontend's timer found {@link #responseDeadline()} due). Past
     * the client's whole wait the client gets its 504 now; past only the per-try timeout, the try
     * fails and may be retried with the time that remains.
     */
    public void onResponseTimeout() {
        if (state == ExchangeState.QUEUED) {
            // No backend had room for the whole wait; none saw the request: 503, not 504.
            choice.leaveQueue(AdmissionQueue.Exit.TIMEOUT);
            fail(UpstreamFailure.QUEUE_TIMEOUT);
            return;
        }
        if (state == ExchangeState.DONE || state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING || upstream == null) {
            return;
        }
        if (deadlines.overallPassed(proxy.clock().nanoTime())) {
            // A try cut short while still connecting says nothing about the backend's answers.
            dropTry(state == ExchangeState.CONNECTING ? Outcome.CANCELLED : Outcome.TIMEOUT);
            fail(UpstreamFailure.RESPONSE_TIMEOUT);
            return;
        }
        closeBackend();
        tryFailed(Outcome.TIMEOUT, false);
    }

    // ---- what the try reports ----

    @Override
    public void onFailed(UpstreamTry t, Outcome outcome, String detail) {
        if (t != upstream || state == ExchangeState.DONE) {
            return;
        }
        if (outcome == Outcome.MALFORMED) {
            malformed(detail);
        } else if (outcome != Outcome.RESET) {
            tryFailed(outcome, true);
        } else if (state == ExchangeState.TUNNELING) {
            // The backend ended the tunnel: what it sent last goes out, then the client closes.
            endWithClose(Outcome.SUCCESS);
        } else if (state == ExchangeState.STREAMING) {
            // Part of the response reached the client; the only honest remedy is to close.
            abortStreaming(Outcome.RESET);
        } else {
            tryFailed(Outcome.RESET, true);
        }
    }

    @Override
    public void onInterim(UpstreamTry t, HttpResponse interim) {
        if (response.awaits(interim)) {
            client.writeInterim(interim);
        }
    }

    @Override
    public void onHead(UpstreamTry t, HttpResponse head) {
        int code = head.status().code();
        if (code == 101) {
            switchProtocols(t, head);
            return;
        }
        if (upgrade != null) {
            // Answered without switching: the client connection goes on with HTTP.
            tunnelSide.upgradeRefused();
        }
        if (code == 502 || code == 503 || code == 504) {
            RetryPolicy.Decision retry = decideRetry(new RetryPolicy.Failure(true, false, false));
            if (retry != RetryPolicy.Decision.GIVE_UP) {
                // Drop this answer and its connection; another backend gets the request.
                dropTry(Outcome.SERVER_ERROR);
                retryAfter(t.backend(), retry, false);
                return;
            }
        }
        response.prepare(head, t.backend(), proxy.draining(), decisionForClient(), tries.routing());
        transition(ExchangeState.STREAMING);
        report.answered(code, t.backend(), t.firstByteNanos());
        client.writeResponse(head);
    }

    @Override
    public void onBody(UpstreamTry t, HttpContent content) {
        if (state != ExchangeState.STREAMING) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            content.release();
            malformed(content.decoderResult().cause().getMessage());
            return;
        }
        boolean last = content instanceof LastHttpContent;
        report.sent(content.content().readableBytes());
        client.writeResponse(content);
        if (last) {
            completeTry();
        }
    }

    @Override
    public void onReadComplete(UpstreamTry t) {
        if (state == ExchangeState.DONE) {
            return;
        }
        client.flushToClient();
        boolean relaying = state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING;
        if (upstream != null && (!relaying || client.isWritable())) {
            upstream.read();
        }
    }

    @Override
    public void onWritable(UpstreamTry t) {
        if ((!body.complete() || state == ExchangeState.TUNNELING) && state != ExchangeState.DONE) {
            client.readRequest();
        }
    }

    /**
     * The backend connection read nothing for {@code backend-idle}. Before the response that is
     * the response timeout's business; after it began, a backend that stalls mid-body while the
     * client could take more is given up on: the client sees a truncated response and a close.
     */
    @Override
    public void onIdle(UpstreamTry t) {
        // A tunnel's idle time is judged on the client connection, where both directions show.
        if (state == ExchangeState.STREAMING && client.isWritable()) {
            abortStreaming(Outcome.TIMEOUT);
        }
    }

    private void completeTry() {
        UpstreamTry t = upstream;
        long now = proxy.clock().nanoTime();
        endTry(t.status() >= 500 ? Outcome.SERVER_ERROR : Outcome.SUCCESS, now);
        t.release(body.complete());
        // finish() ends in exchangeDone, which flushes the response's end.
        finish(now);
    }

    /**
     * The backend's answer could not be parsed ({@code why}, the decoder's words): before the
     * response began, the try fails and may be retried like a 502 ({@link RetryPolicy}); after, the
     * response is cut. Either way the connection is closed, since its framing is lost.
     */
    private void malformed(String why) {
        if (state == ExchangeState.STREAMING) {
            report.malformedMidResponse(why);
            abortStreaming(Outcome.MALFORMED);
            return;
        }
        report.malformed(why);
        closeBackend();
        tryFailed(Outcome.MALFORMED, false);
    }

    /** The response broke after it began: close both sides; the client sees a cut response. */
    private void abortStreaming(Outcome outcome) {
        closeBackend();
        report.cut();
        endWithClose(outcome);
    }

    // ---- a switched protocol ----

    /**
     * The backend switched protocols: the 101 goes to the client with the protocol it names, and
     * from now on a {@link Tunnel} relays bytes both ways.
     */
    private void switchProtocols(UpstreamTry t, HttpResponse switching) {
        if (upgrade == null || state != ExchangeState.AWAITING_HEAD) {
            // Switching protocols without having been asked (Upgrade is hop-by-hop).
            malformed(upgrade == null ? "101 to a request without Upgrade" : "101 before the request was sent");
            return;
        }
        long now = proxy.clock().nanoTime();
        response.prepareSwitch(switching, t.backend());
        transition(ExchangeState.TUNNELING);
        report.answered(101, t.backend(), now);
        tunnel = new Tunnel(tunnelSide, t, report);
        tunnel.open(switching, now);
    }

    @Override
    public void onTunnelData(UpstreamTry t, ByteBuf data) {
        onTunnelData(true, data);
    }

    @Override
    public void onTunnelInputShutdown(UpstreamTry t) {
        onTunnelInputShutdown(true);
    }

    /** Bytes through the tunnel; ownership passes here. */
    public void onTunnelData(boolean fromBackend, ByteBuf data) {
        if (state != ExchangeState.TUNNELING || upstream == null || !upstream.connected()) {
            data.release();
        } else {
            tunnel.relay(fromBackend, data);
        }
    }

    /** One side of the tunnel sent its last byte ({@link Tunnel#inputShutdown}); both have: it is over. */
    public void onTunnelInputShutdown(boolean fromBackend) {
        if (state == ExchangeState.TUNNELING && upstream != null && upstream.connected() && tunnel.inputShutdown(fromBackend)
                && state == ExchangeState.TUNNELING) {
            endWithClose(Outcome.SUCCESS);
        }
    }

    /** Whether the exchange relays a switched protocol's bytes. */
    public boolean tunneling() {
        return state == ExchangeState.TUNNELING;
    }

    /**
     * The balancer began its graceful stop. A response that has no end of its own would hold the
     * drain to its timeout, so it ends now: an event stream with its last chunk, which an
     * {@code EventSource} answers by reconnecting (to a balancer still running), and a tunnel with a
     * close, as when either side closes it. Every other exchange goes on to its end.
     */
    public void onDrain() {
        if (state == ExchangeState.TUNNELING) {
            closeBackend();
            endWithClose(Outcome.SUCCESS);
        } else if (state == ExchangeState.STREAMING && response.eventStream()) {
            // The rest of this response will never be read: its backend connection goes too.
            closeBackend();
            if (response.closeDelimited()) {
                // An HTTP/1.0 client knows the end by the close.
                endWithClose(Outcome.SUCCESS);
            } else {
                endTry(Outcome.SUCCESS);
                client.writeResponse(LastHttpContent.EMPTY_LAST_CONTENT);
                finish();
            }
        }
    }

    // ---- failures and retries ----

    /**
     * The current try failed without a response reaching the client; its connection is closed.
     *
     * @param connectionLost the connection was refused, reset or closed before any response byte,
     *     as opposed to a timeout, an error status or a malformed response
     */
    private void tryFailed(Outcome outcome, boolean connectionLost) {
        if (state == ExchangeState.DONE) {
            return;
        }
        UpstreamTry t = upstream;
        boolean sent = t != null && t.reached();
        Backend failed = t == null ? null : t.backend();
        // Judged before the try ends: a backend that answered nothing since this try was sent is
        // hung, not slow, and moving its requests elsewhere adds no load to a brown-out.
        boolean stalled = outcome == Outcome.TIMEOUT && t != null && t.backendStalled(proxy.clock().nanoTime());
        dropTry(outcome);
        RetryPolicy.Decision retry = decideRetry(new RetryPolicy.Failure(sent, connectionLost, stalled));
        if (retry != RetryPolicy.Decision.GIVE_UP) {
            // After a lost connection the next try opens a new one: idle connections may be as
            // dead as the one just lost (a region killed at once).
            retryAfter(failed, retry, connectionLost);
            return;
        }
        fail(switch (outcome) {
            case CONNECT_FAILURE -> UpstreamFailure.CONNECT_FAILED;
            case TIMEOUT -> UpstreamFailure.RESPONSE_TIMEOUT;
            case MALFORMED -> UpstreamFailure.MALFORMED_RESPONSE;
            default -> sent ? UpstreamFailure.RESET_BEFORE_RESPONSE : UpstreamFailure.CONNECT_FAILED;
        });
    }

    /**
     * Whether another try may follow the failed one ({@link RetryPolicy}, the retry budget), within
     * the client's deadline.
     */
    private RetryPolicy.Decision decideRetry(RetryPolicy.Failure failure) {
        if (deadlines.overallPassed(proxy.clock().nanoTime())) {
            return RetryPolicy.Decision.GIVE_UP;
        }
        return tries.decide(failure, state == ExchangeState.STREAMING, repeatable && body.replayable(), settings,
                pool.registry().current().backends().size(), pool.retryBudget());
    }

    /** Starts the next try after the one at {@code failed} ended, as {@code retry} allowed. */
    private void retryAfter(Backend failed, RetryPolicy.Decision retry, boolean freshConnection) {
        tries.retrying(failed, retry);
        pool.retryBudget().recordRetry();
        transition(ExchangeState.SELECTING);
        deadlines.retrying();
        select(freshConnection);
    }

    /** Closes the current try's connection, if any, and ends the try with {@code outcome}. */
    private void dropTry(Outcome outcome) {
        closeBackend();
        endTry(outcome);
    }

    /** Ends the current try: frees its backend's in-flight slot and reports the outcome. */
    private void endTry(Outcome outcome) {
        endTry(outcome, proxy.clock().nanoTime());
    }

    private void endTry(Outcome outcome, long nowNanos) {
        UpstreamTry t = upstream;
        if (t == null) {
            return;
        }
        upstream = null;
        RequestRecord.Try logged = t.end(outcome, nowNanos);
        if (logged != null) {
            tries.ended(logged);
        }
    }

    /** Lets the current try's connection go, if any, and closes it. */
    private void closeBackend() {
        if (upstream != null) {
            upstream.close();
        }
    }

    /** Ends the try and the exchange with the client connection's close, after what was written to it. */
    private void endWithClose(Outcome outcome) {
        endTry(outcome);
        client.abortResponse(this);
        finish();
    }

    private void fail(UpstreamFailure failure) {
        if (state == ExchangeState.DONE) {
            return;
        }
        dropTry(Outcome.CANCELLED);
        report.failed(failure);
        client.writeError(this, failure.status(), failure.message(), !body.complete() && !bodyless,
                failure.retryAfter());
        finish();
    }

    /** Ends the exchange with an error of the balancer's own (body too large, 400, 408). */
    private void abort(HttpResponseStatus status, String message) {
        if (state == ExchangeState.STREAMING) {
            abortStreaming(Outcome.CANCELLED);
            return;
        }
        dropTry(Outcome.CANCELLED);
        report.refused(status, message);
        client.writeError(this, status, message, true, false);
        finish();
    }

    private void finish() {
        finish(proxy.clock().nanoTime());
    }

    private void finish(long nowNanos) {
        if (state == ExchangeState.DONE) {
            return;
        }
        // The frontend's timer is shared by the connection's requests; it finds no deadline here
        // and re-arms for the next one, so nothing is scheduled or cancelled per request.
        choice.leaveQueue(AdmissionQueue.Exit.CANCELLED);
        transition(ExchangeState.DONE);
        body.release();
        tries.release(pool.retryBudget());
        pool.retryBudget().requestEnded();
        // The meters and the access log hear what happened, in the request's one record.
        report.report(proxy, tries.log(), choice.trace(), nowNanos);
        client.exchangeDone(this);
    }

    @Override
    public String toString() {
        return request.method() + " " + request.uri() + " [" + requestId + ", " + state + "]";
    }
}
