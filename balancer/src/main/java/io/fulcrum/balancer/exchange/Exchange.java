package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Affinity;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.balancing.LoadBalancer;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.edge.AffinityRules;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.http1.codec.Upgrades;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.balancer.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * One client request and its way to a response, as an explicit state machine ({@link ExchangeState}).
 *
 * <p>As Envoy's router filter is to its upstream requests, the exchange holds what spans tries: the
 * state, the retries ({@link Tries}, {@link RetryPolicy}, the retry budget), the request body in a
 * {@link ReplayBuffer}, the client's overall deadline, a wait in the pool's queue
 * ({@link QueueWait}), and the client connection, reached only through {@link ClientSide} (and a
 * {@link TunnelSide} for an upgrade request). Each try is one {@link UpstreamTry} (its backend
 * slot, connection, request write, per-try deadline and outcome), which reports back through
 * {@link UpstreamTry.Listener}; a retry is a new one. A switched protocol is relayed by a
 * {@link Tunnel}. Transitions are checked with {@code assert}, so an impossible one fails the tests
 * loudly and costs nothing in production.
 *
 * <p>Admission: a request that finds every backend of its pool at max-in-flight waits in the pool's
 * {@link AdmissionQueue} (QUEUED) for at most {@code timeouts.queue}; each turn the queue gives it
 * selects again, and a request still without a backend at the end gets 503 with
 * {@code Retry-After}. The wait counts in the client's whole wait below, as HAProxy's
 * {@code timeout queue} counts before its server timeout: the queue wait ends at whichever of the
 * two comes first, with the 503 (no backend ever saw the request, so it is no gateway timeout).
 *
 * <p>Deadlines: {@code timeouts.response} bounds the client's whole wait, from its request complete
 * to the response head, whatever the number of tries; each retry gets what remains, and when it
 * runs out the client has its 504. {@code retry.per-try-timeout} bounds one try inside it, from its
 * request sent to the response head.
 *
 * <p>Not thread safe: confined to the client channel's event loop, which also runs the backend
 * connection.
 */
public final class Exchange implements UpstreamTry.Listener {
    /** The response header of the full decision trace, for trusted clients that ask for it. */
    public static final AsciiString DECISION_HEADER = AsciiString.cached("X-Fulcrum-Decision");
    private static final String EVENT_STREAM = "text/event-stream";

    private final ClientSide client;
    /**
     * The client connection's side for switching protocols: present only when the request asks to
     * upgrade on a connection that can switch, else {@code null}.
     */
    private final TunnelSide tunnelSide;
    private final ProxyContext proxy;
    /** The pool the request's route chose; every try stays in it. */
    private final BackendPool pool;
    /** The route that chose it (its response header edits), or {@code null} for none. */
    private final Route<BackendPool> route;
    private final ProxySettings settings;
    private final HttpRequest request;
    private final String requestId;
    private final HttpVersion clientVersion;
    private final boolean head;
    /** The method (or an Idempotency-Key) allows sending the request again after a backend saw it. */
    private final boolean repeatable;
    private final boolean bodyless;
    /** The client asked to keep the connection (read before the hop-by-hop headers go). */
    private final boolean clientKeepAlive;
    /** The protocols an upgrade request asks for ({@link Upgrades}), or {@code null}. */
    private final String upgrade;
    private final String clientAddress;
    /** The pool's session affinity when the request came, or {@code null}. */
    private final Affinity affinity;
    private final long startNanos;
    private final ReplayBuffer body;
    private final Tries tries;

    private ExchangeState state = ExchangeState.SELECTING;
    /** The current try; {@code null} between tries and once done. */
    private UpstreamTry upstream;
    /** The wait in the pool's queue while QUEUED, else {@code null}. */
    private QueueWait queued;
    /** When the client's whole wait ends, or 0 before its request is complete. */
    private long overallDeadline;
    private boolean hostFromBackend;
    /** The response sent to the client ends at the connection's close (HTTP/1.0, no length). */
    private boolean closeDelimited;
    /** The relay of a switched protocol while TUNNELING, else {@code null}. */
    private Tunnel tunnel;
    /** The response is a Server-Sent Events stream ({@code text/event-stream}), which has no end of its own. */
    private boolean eventStream;
    /** The decision trace of the current try's selection, or {@code null} when nobody reads it. */
    private DecisionTrace trace;
    // What the access log and the request meters are told when the exchange ends (finish, RequestFacts.report).
    private RequestFacts facts = RequestFacts.UNKNOWN;
    /** The status the client got (499 when it left first). */
    private int clientStatus = 499;
    private String servedBy;
    private long bytesIn;
    private long bytesOut;
    /** When the response head went to the client, or 0 before. */
    private long responseHeadNanos;
    private boolean clientAborted;
    private String error;
    /** What was wrong with the last malformed backend response, for the access log's error. */
    private String malformedDetail;

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
        this.route = route;
        this.settings = settings;
        this.request = request;
        this.requestId = requestId;
        this.clientAddress = clientAddress;
        this.clientVersion = request.protocolVersion();
        this.head = HttpMethod.HEAD.equals(request.method());
        this.repeatable = isRepeatable(request);
        this.bodyless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
        this.clientKeepAlive = HttpUtil.isKeepAlive(request);
        this.upgrade = tunnels == null ? null : Upgrades.requested(request);
        this.tunnelSide = upgrade == null ? null : tunnels;
        this.affinity = pool.registry().current().loadBalancer().affinity();
        this.tries = new Tries(AffinityRules.routing(affinity, request, clientAddress, clientRegion));
        this.startNanos = proxy.clock().nanoTime();
        this.body = new ReplayBuffer(settings.replayBodyBytes());
    }

    /** The request's facts for the access log and the meters; set by the frontend before {@link #start()}. */
    void facts(RequestFacts facts) {
        this.facts = facts;
    }

    /**
     * The full decision trace of the last selection when this client asked for it and may see it,
     * else {@code null}; for the balancer's own error responses (a 503 says why nothing was chosen).
     */
    public String decisionForClient() {
        return facts.debug() && trace != null ? trace.detailed() : null;
    }

    /** GET, HEAD, PUT, DELETE, OPTIONS, TRACE, and POST/PATCH carrying an Idempotency-Key. */
    private static boolean isRepeatable(HttpRequest request) {
        HttpMethod m = request.method();
        if (m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.PUT || m == HttpMethod.DELETE
                || m == HttpMethod.OPTIONS || m == HttpMethod.TRACE) {
            return true;
        }
        return request.headers().contains("idempotency-key");
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
        return !clientKeepAlive || closeDelimited;
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
        bytesIn += content.content().readableBytes();
        body.add(content);
        if (body.complete()) {
            armOverallDeadline();
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
        closeBackend();
        // A tunnel ends when either side closes; that is its normal end, not a cancellation.
        endTry(state == ExchangeState.TUNNELING ? Outcome.SUCCESS : Outcome.CANCELLED);
        clientAborted = state != ExchangeState.TUNNELING;
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
     * Chooses a backend for the next try and gets it a connection. When every backend is full the
     * request waits in the pool's queue, if it has one; a request that finds others waiting joins
     * them at the back without selecting, so that the oldest are served first.
     *
     * @param freshConnection open a new connection instead of reusing an idle one
     */
    private void select(boolean freshConnection) {
        AdmissionQueue queue = pool.queue();
        boolean queues = settings.queues();
        newTrace();
        Backend chosen;
        if (queues && !queue.isEmpty() && queue.length() < settings.maxQueue()) {
            chosen = null;
            if (trace != null) {
                trace.queuedBehind(tries.routing(), pool.registry().localRegion());
            }
        } else {
            chosen = choose();
        }
        if (chosen != null) {
            proceed(chosen, freshConnection);
        } else if (queues && QueueWait.worthWaiting(pool)) {
            enqueue(freshConnection);
        } else {
            fail(UpstreamFailure.NO_BACKEND);
        }
    }

    private void newTrace() {
        if (facts.debug()) {
            trace = DecisionTrace.fullTrace();
        } else if (proxy.accessLog().enabled()) {
            trace = DecisionTrace.compactTrace();
        }
    }

    /** A backend below its max-in-flight with its slot taken, or {@code null} when none has room. */
    private Backend choose() {
        LoadBalancer lb = pool.registry().current().loadBalancer();
        RequestInfo info = tries.routing();
        Backend chosen = lb.select(info, trace);
        if (chosen != null && !chosen.tryAcquire()) {
            // Lost a race for the last slot; one more choice before giving up.
            chosen = lb.select(info, trace);
            if (chosen != null && !chosen.tryAcquire()) {
                chosen = null;
            }
        }
        return chosen;
    }

    /** Waits in the pool's queue, or answers 503 when it is full. */
    private void enqueue(boolean freshConnection) {
        QueueWait wait = QueueWait.join(this, pool.queue(), settings, client.eventLoop(), freshConnection,
                proxy.clock().nanoTime());
        if (wait == null) {
            if (trace != null) {
                trace.queueFull();
            }
            fail(UpstreamFailure.QUEUE_FULL);
            return;
        }
        queued = wait;
        transition(ExchangeState.QUEUED);
        client.armResponseTimer(responseDeadline());
    }

    /**
     * The queue gave this request a turn (a slot was freed somewhere in the pool). It selects as
     * any request does; without room it keeps its place.
     */
    void onQueueTurn(QueueWait wait) {
        if (state != ExchangeState.QUEUED || wait != queued) {
            return;
        }
        newTrace();
        Backend chosen = choose();
        if (chosen == null) {
            wait.lost();
            return;
        }
        queued = null;
        long waited = wait.won(proxy.clock().nanoTime());
        if (trace != null) {
            trace.queued(waited, null);
        }
        transition(ExchangeState.SELECTING);
        proceed(chosen, wait.freshConnection());
    }

    /** Leaves the pool's queue, if in it, without a backend. */
    private void leaveQueue(AdmissionQueue.Exit why) {
        QueueWait wait = queued;
        if (wait == null) {
            return;
        }
        queued = null;
        long waited = wait.leave(why, proxy.clock().nanoTime());
        if (trace != null && waited >= 0) {
            trace.queued(waited, why == AdmissionQueue.Exit.TIMEOUT ? "timeout" : null);
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
        long perTry = settings.perTryTimeoutNanos();
        if (perTry > 0 && state == ExchangeState.AWAITING_HEAD) {
            long deadline = t.startPerTryTimeout(perTry);
            // A per-try deadline after the client's needs no timer: the client's is armed (when
            // its request was complete, and again before each retry) and ends this try too.
            if (overallDeadline == 0 || deadline - overallDeadline < 0) {
                client.armResponseTimer(deadline);
            }
        }
    }

    /** The client's request is complete: its whole wait for a response head starts now. */
    private void armOverallDeadline() {
        if (overallDeadline == 0 && state != ExchangeState.DONE) {
            // A request announced without a body was complete when its head was read.
            long completeNanos = bodyless ? startNanos : proxy.clock().nanoTime();
            overallDeadline = completeNanos + settings.responseTimeoutNanos();
            client.armResponseTimer(overallDeadline);
        }
    }

    /**
     * When the next response deadline falls (the per-try one or the client's whole wait, whichever
     * is first), or 0 when this exchange is not waiting for a response head.
     */
    public long responseDeadline() {
        if (state == ExchangeState.DONE || state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING) {
            return 0;
        }
        long first = state == ExchangeState.QUEUED ? (queued == null ? 0 : queued.deadline())
                : upstream == null ? 0 : upstream.deadline();
        if (first == 0) {
            return overallDeadline;
        }
        return overallDeadline == 0 || first - overallDeadline < 0 ? first : overallDeadline;
    }

    /**
     * A response deadline passed (the frontend's timer found {@link #responseDeadline()} due). Past
     * the client's whole wait the client gets its 504 now; past only the per-try timeout, the try
     * fails and may be retried with the time that remains.
     */
    public void onResponseTimeout() {
        if (state == ExchangeState.QUEUED) {
            // No backend had room for the whole wait; none saw the request: 503, not 504.
            leaveQueue(AdmissionQueue.Exit.TIMEOUT);
            fail(UpstreamFailure.QUEUE_TIMEOUT);
            return;
        }
        if (state == ExchangeState.DONE || state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING || upstream == null) {
            return;
        }
        boolean overall = overallDeadline != 0 && proxy.clock().nanoTime() - overallDeadline >= 0;
        boolean wasConnecting = state == ExchangeState.CONNECTING;
        closeBackend();
        if (overall) {
            // A try cut short while still connecting says nothing about the backend's answers.
            endTry(wasConnecting ? Outcome.CANCELLED : Outcome.TIMEOUT);
            fail(UpstreamFailure.RESPONSE_TIMEOUT);
            return;
        }
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
            endTry(Outcome.SUCCESS);
            client.abortResponse(this);
            finish();
        } else if (state == ExchangeState.STREAMING) {
            // Part of the response reached the client; the only honest remedy is to close.
            abortStreaming(Outcome.RESET);
        } else {
            tryFailed(Outcome.RESET, true);
        }
    }

    @Override
    public void onInterim(UpstreamTry t, HttpResponse interim) {
        if (interim.status().code() == 100 && HttpUtil.is100ContinueExpected(request)
                && clientVersion == HttpVersion.HTTP_1_1) {
            client.writeInterim(interim);
        }
    }

    @Override
    public void onHead(UpstreamTry t, HttpResponse response) {
        int code = response.status().code();
        if (code == 101) {
            switchProtocols(t, response);
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
                closeBackend();
                endTry(Outcome.SERVER_ERROR);
                retryAfter(t.backend(), retry, false);
                return;
            }
        }
        boolean noBody = head || code == 204 || code == 304;
        closeDelimited = HeaderRules.prepareResponse(response, clientVersion, noBody, requestId,
                settings.backendHeader(), t.backend().id());
        if (route != null) {
            route.editResponse(response.headers());
        }
        if (proxy.draining() || closesConnection()) {
            // The connection closes after this response; say so (RFC 9112 section 9.6).
            HttpUtil.setKeepAlive(response, false);
        }
        if (facts.debug() && trace != null) {
            response.headers().set(DECISION_HEADER, trace.detailed());
        }
        if (affinity != null) {
            // The header was set from the client connection (HeaderRules): TLS makes the cookie Secure.
            AffinityRules.pin(affinity, tries.routing(), response, t.backend(),
                    request.headers().contains(HeaderRules.X_FORWARDED_PROTO, "https", true));
        }
        eventStream = isEventStream(response);
        transition(ExchangeState.STREAMING);
        answered(code, t, t.firstByteNanos());
        client.writeResponse(response);
    }

    /** The client gets the backend's answer from now on. */
    private void answered(int status, UpstreamTry t, long nowNanos) {
        clientStatus = status;
        servedBy = t.backend().id();
        responseHeadNanos = nowNanos;
    }

    /** The media type is {@code text/event-stream} (HTML Living Standard, "Server-sent events"). */
    private static boolean isEventStream(HttpResponse response) {
        // Read in place: every response passes here, and nothing is copied for a type that is not one.
        String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null) {
            return false;
        }
        int start = 0;
        while (start < type.length() && (type.charAt(start) == ' ' || type.charAt(start) == '\t')) {
            start++;
        }
        int end = start + EVENT_STREAM.length();
        if (!type.regionMatches(true, start, EVENT_STREAM, 0, EVENT_STREAM.length())) {
            return false;
        }
        while (end < type.length() && (type.charAt(end) == ' ' || type.charAt(end) == '\t')) {
            end++;
        }
        return end == type.length() || type.charAt(end) == ';';
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
        bytesOut += content.content().readableBytes();
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
        malformedDetail = why;
        if (state == ExchangeState.STREAMING) {
            error = UpstreamFailure.MALFORMED_RESPONSE.message() + ": " + why;
            abortStreaming(Outcome.MALFORMED);
            return;
        }
        closeBackend();
        tryFailed(Outcome.MALFORMED, false);
    }

    /** The response broke after it began: close both sides; the client sees a cut response. */
    private void abortStreaming(Outcome outcome) {
        closeBackend();
        endTry(outcome);
        clientAborted = true;
        client.abortResponse(this);
        finish();
    }

    // ---- a switched protocol ----

    /**
     * The backend switched protocols: the 101 goes to the client with the protocol it names, and
     * from now on a {@link Tunnel} relays bytes both ways.
     */
    private void switchProtocols(UpstreamTry t, HttpResponse response) {
        if (upgrade == null || state != ExchangeState.AWAITING_HEAD) {
            // Switching protocols without having been asked (Upgrade is hop-by-hop).
            malformed(upgrade == null ? "101 to a request without Upgrade" : "101 before the request was sent");
            return;
        }
        long now = proxy.clock().nanoTime();
        String protocol = response.headers().get(HttpHeaderNames.UPGRADE);
        HeaderRules.prepareResponse(response, clientVersion, true, requestId, settings.backendHeader(), t.backend().id());
        if (route != null) {
            route.editResponse(response.headers());
        }
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        if (protocol != null) {
            response.headers().set(HttpHeaderNames.UPGRADE, protocol);
        }
        transition(ExchangeState.TUNNELING);
        answered(101, t, now);
        tunnel = new Tunnel(tunnelSide, t);
        tunnel.open(response, now);
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
        } else if (fromBackend) {
            bytesOut += tunnel.relay(true, data);
        } else {
            bytesIn += tunnel.relay(false, data);
        }
    }

    /** One side of the tunnel sent its last byte ({@link Tunnel#inputShutdown}); both have: it is over. */
    public void onTunnelInputShutdown(boolean fromBackend) {
        if (state == ExchangeState.TUNNELING && upstream != null && upstream.connected() && tunnel.inputShutdown(fromBackend)
                && state == ExchangeState.TUNNELING) {
            endTry(Outcome.SUCCESS);
            client.abortResponse(this);
            finish();
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
            endTry(Outcome.SUCCESS);
            client.abortResponse(this);
            finish();
        } else if (state == ExchangeState.STREAMING && eventStream) {
            // The rest of this response will never be read: its backend connection goes too.
            closeBackend();
            endTry(Outcome.SUCCESS);
            if (closeDelimited) {
                // An HTTP/1.0 client knows the end by the close.
                client.abortResponse(this);
            } else {
                client.writeResponse(LastHttpContent.EMPTY_LAST_CONTENT);
            }
            finish();
        }
    }

    // ---- failures and retries ----

    /**
     * The current try failed without a response reaching the client.
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
        closeBackend();
        endTry(outcome);
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
        if (overallDeadline != 0 && proxy.clock().nanoTime() - overallDeadline >= 0) {
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
        if (overallDeadline != 0) {
            // The connection's timer may be the one that just fired for the failed try's per-try
            // deadline: nothing is scheduled any more. The client's deadline is armed again before
            // the next try, which may connect for a while and whose own per-try deadline, when it
            // falls after the client's, arms nothing (requestSent).
            client.armResponseTimer(overallDeadline);
        }
        select(freshConnection);
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

    private void fail(UpstreamFailure failure) {
        if (state == ExchangeState.DONE) {
            return;
        }
        closeBackend();
        endTry(Outcome.CANCELLED);
        clientStatus = failure.status().code();
        // The client learns what kind of failure; the log also what the backend got wrong.
        error = failure == UpstreamFailure.MALFORMED_RESPONSE && malformedDetail != null
                ? failure.message() + ": " + malformedDetail : failure.message();
        client.writeError(this, failure.status(), failure.message(), !body.complete() && !bodyless,
                failure.retryAfter());
        finish();
    }

    /** Ends the exchange with an error of the balancer's own (body too large, 400, 408). */
    private void abort(HttpResponseStatus status, String message) {
        closeBackend();
        endTry(Outcome.CANCELLED);
        if (state == ExchangeState.STREAMING) {
            clientAborted = true;
            client.abortResponse(this);
        } else {
            error = message;
            clientStatus = status.code();
            client.writeError(this, status, message, true, false);
        }
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
        leaveQueue(AdmissionQueue.Exit.CANCELLED);
        transition(ExchangeState.DONE);
        body.release();
        tries.release(pool.retryBudget());
        pool.retryBudget().requestEnded();
        // The meters and the access log hear what happened, in the request's one record.
        List<RequestRecord.Try> tried = tries.log();
        facts.report(proxy, requestId, clientAddress, clientStatus, clientAborted, bytesIn, bytesOut,
                nowNanos - startNanos, responseHeadNanos == 0 ? -1 : responseHeadNanos - startNanos,
                clientAborted && clientStatus == 499 ? null : servedBy, tried, trace, error,
                route == null ? null : route.name(), pool.name());
        client.exchangeDone(this);
    }

    @Override
    public String toString() {
        return request.method() + " " + request.uri() + " [" + requestId + ", " + state + "]";
    }
}
