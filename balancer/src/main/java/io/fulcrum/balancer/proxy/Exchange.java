package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.http1.Http1Decoder;
import io.fulcrum.balancer.http1.Http1Encoder;
import io.fulcrum.balancer.http1.Upgrades;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.balancer.route.Route;
import io.fulcrum.balancer.routing.Affinity;
import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.DecisionTrace;
import io.fulcrum.balancer.routing.LoadBalancer;
import io.fulcrum.balancer.routing.Outcome;
import io.fulcrum.balancer.routing.RequestInfo;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
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
import io.netty.util.AsciiString;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import java.util.ArrayList;
import java.util.List;

/**
 * One client request and its way to a response, as an explicit state machine:
 *
 * <pre>
 *   SELECTING ──► CONNECTING ──► SENDING ──► AWAITING_HEAD ──► STREAMING ──► DONE
 *                                                  └──── 101 ────► TUNNELING ───┘
 *       │  ▲           │            │  │            │                          ▲
 *       │  └───────────┴────────────┘  └────────────┼── (early response) ──►   │
 *       │        retry: a new Attempt                │                          │
 *       └──────────── failure, cancel, no backend, queue full ──────────────────┘
 *
 *   SELECTING ──► QUEUED ──► SELECTING   every backend full: wait, and select again on a turn
 *                   └──────► DONE        the wait ran out (503), or the client left
 * </pre>
 *
 * Each try is one {@link Attempt} (backend, connection, timings, outcome); a retry is a new one.
 * The request body lives in a {@link ReplayBuffer}, the retry rules in {@link RetryPolicy}, and the
 * client connection is reached only through {@link ClientSide}, and through {@link TunnelSide} for
 * an upgrade request on a connection that can switch protocols. Transitions are checked with
 * {@code assert}, so an impossible one fails the tests loudly and costs nothing in production.
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
final class Exchange implements FutureListener<Channel> {
    /** The response header of the full decision trace, for trusted clients that ask for it. */
    static final AsciiString DECISION_HEADER = AsciiString.cached("X-Fulcrum-Decision");
    private static final AsciiString EVENT_STREAM = AsciiString.cached("text/event-stream");

    /** Where an exchange stands; see the class comment for the transitions. */
    enum State {
        /** Choosing a backend (first try or retry). */
        SELECTING,
        /** Every backend was full: waiting in the pool's queue for a turn to select again. */
        QUEUED,
        /** Waiting for a new connection to the chosen backend. */
        CONNECTING,
        /** The request head is written; its body may still be coming from the client. */
        SENDING,
        /** The request is completely written; waiting for the final response head. */
        AWAITING_HEAD,
        /** The response head went to the client; its body is being relayed. Nothing is retried now. */
        STREAMING,
        /** The backend switched protocols (101): bytes are relayed both ways until either side closes. */
        TUNNELING,
        /** Answered, failed or cancelled; every resource is released. */
        DONE;

        /** Whether {@code next} may follow this state. */
        boolean canGoTo(State next) {
            return switch (this) {
                // SELECTING again: a connection that failed at once (no listener turn) is retried at once.
                case SELECTING -> next == CONNECTING || next == SENDING || next == SELECTING || next == QUEUED
                        || next == DONE;
                case QUEUED -> next == SELECTING || next == DONE;
                case CONNECTING -> next == SENDING || next == SELECTING || next == DONE;
                case SENDING -> next == AWAITING_HEAD || next == STREAMING || next == SELECTING || next == DONE;
                case AWAITING_HEAD -> next == STREAMING || next == TUNNELING || next == SELECTING || next == DONE;
                case STREAMING, TUNNELING -> next == DONE;
                case DONE -> false;
            };
        }
    }

    private final ClientSide client;
    /**
     * The client connection's side for switching protocols: present only when the request asks to
     * upgrade on a connection that can switch, else {@code null}.
     */
    private final TunnelSide tunnel;
    private final ProxyContext proxy;
    /** The pool the request's route chose; every try stays in it. */
    private final ProxyPool pool;
    /** The route that chose it (its response header edits), or {@code null} for none. */
    private final Route<ProxyPool> route;
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

    private State state = State.SELECTING;
    private final Tries tries;
    /** The current try; {@code null} between tries and once done. */
    private Attempt attempt;
    /** When the client's whole wait ends, or 0 before its request is complete. */
    private long overallDeadline;
    private boolean hostFromBackend;
    /** The response sent to the client ends at the connection's close (HTTP/1.0, no length). */
    private boolean closeDelimited;
    /** Inside a tunnel: the client has sent all it will (its FIN came), and so has the backend. */
    private boolean clientSentAll;
    private boolean backendSentAll;
    /** The response is a Server-Sent Events stream ({@code text/event-stream}), which has no end of its own. */
    private boolean eventStream;
    /** The status the client got (499 when it left first), for the access log. */
    private int clientStatus = 499;
    private String servedBy;
    // What the access log and the request meters are told when the exchange ends.
    private RequestFacts facts = RequestFacts.UNKNOWN;
    private long bytesIn;
    private long bytesOut;
    /** When the response head went to the client, or 0 before. */
    private long responseHeadNanos;
    private boolean clientAborted;
    private String error;
    /** What was wrong with the last malformed backend response, for the access log's error. */
    private String malformedDetail;
    /** The tries made, for the access log (allocated at the first try's end). */
    private List<RequestRecord.Try> tryLog;
    /** The decision trace of the current try's selection, or {@code null} when nobody reads it. */
    private DecisionTrace trace;
    /** The place in the pool's queue while QUEUED, else {@code null}. */
    private AdmissionQueue.Ticket ticket;
    /** When the queue wait ends while QUEUED. */
    private long queueDeadline;
    /** The try selected from the queue opens a new connection (a retry after a lost one). */
    private boolean queuedFresh;

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
    Exchange(ClientSide client, TunnelSide tunnels, ProxyContext proxy, ProxyPool pool, Route<ProxyPool> route,
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
        this.tunnel = upgrade == null ? null : tunnels;
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
    String decisionForClient() {
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

    private void transition(State next) {
        assert state.canGoTo(next) : "exchange " + requestId + ": " + state + " -> " + next;
        state = next;
    }

    State state() {
        return state;
    }

    String requestId() {
        return requestId;
    }

    boolean isDone() {
        return state == State.DONE;
    }

    boolean requestComplete() {
        return body.complete();
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
        if (state == State.TUNNELING) {
            return attempt != null && attempt.connected() && attempt.channel.isWritable();
        }
        return state != State.DONE && !body.complete() && attempt != null && attempt.connected()
                && attempt.channel.isWritable();
    }

    /** Starts the first try. {@code request} was already rewritten by {@link HeaderRules}. */
    void start() {
        if (upgrade != null) {
            // The hop-by-hop rewrite removed them; an upgrade is asked of the backend hop by hop.
            request.headers().set(HttpHeaderNames.UPGRADE, upgrade).set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        }
        pool.retryBudget().requestStarted();
        select(false);
    }

    // ---- client side ----

    /** A part of the request body; ownership passes to this exchange. */
    void onRequestContent(HttpContent content) {
        if (state == State.DONE) {
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
        if (attempt != null && attempt.connected()) {
            body.writeTo(attempt.channel);
            if (body.complete()) {
                requestSent(proxy.clock().nanoTime());
            }
        }
    }

    /** The request body's framing broke (e.g. an invalid chunk size): cancel and answer 400. */
    void onMalformedRequestBody() {
        if (state != State.DONE) {
            abort(HttpResponseStatus.BAD_REQUEST, "malformed request body");
        }
    }

    /** The client connection closed before the exchange ended: cancel the backend request. */
    void onClientClosed() {
        if (state == State.DONE) {
            return;
        }
        closeBackend();
        // A tunnel ends when either side closes; that is its normal end, not a cancellation.
        endTry(state == State.TUNNELING ? Outcome.SUCCESS : Outcome.CANCELLED);
        clientAborted = state != State.TUNNELING;
        finish();
    }

    /** The client can take more response bytes. */
    void onClientWritable() {
        if ((state == State.STREAMING || state == State.TUNNELING) && attempt != null && attempt.connected()) {
            attempt.channel.read();
        }
    }

    /** The client sent nothing for {@code client-idle} while its request body was awaited: 408. */
    void onClientIdleMidRequest() {
        if (state != State.DONE) {
            abort(HttpResponseStatus.REQUEST_TIMEOUT, "request body timed out");
        }
    }

    /** Flushes what the client side wrote to the backend during one read. */
    void flushToBackend() {
        if (attempt != null && attempt.connected()) {
            attempt.channel.flush();
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
        } else if (queues && worthWaiting()) {
            enqueue(freshConnection);
        } else {
            fail(UpstreamFailure.NO_BACKEND);
        }
    }

    /**
     * Whether a backend of the pool could take the request once it has room: one that is not
     * draining (selection falls back to those in panic mode). A pool that is empty or all draining
     * gets no slot by waiting, so its requests fail at once, as HAProxy's do without a usable server.
     */
    private boolean worthWaiting() {
        List<Backend> backends = pool.registry().current().backends();
        for (int i = 0, n = backends.size(); i < n; i++) {
            if (!backends.get(i).state().draining()) {
                return true;
            }
        }
        return false;
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
        long now = proxy.clock().nanoTime();
        AdmissionQueue.Ticket t = pool.queue().offer(settings.maxQueue(), client.eventLoop(), this::onQueueTurn, now);
        if (t == null) {
            if (trace != null) {
                trace.queueFull();
            }
            fail(UpstreamFailure.QUEUE_FULL);
            return;
        }
        ticket = t;
        queuedFresh = freshConnection;
        queueDeadline = now + settings.queueTimeoutNanos();
        transition(State.QUEUED);
        client.armResponseTimer(responseDeadline());
    }

    /**
     * The queue gave this request a turn (a slot was freed somewhere in the pool); on this
     * exchange's loop. It selects as any request does; without room it keeps its place.
     */
    private void onQueueTurn() {
        AdmissionQueue.Ticket t = ticket;
        if (state != State.QUEUED || t == null) {
            return;
        }
        newTrace();
        Backend chosen = choose();
        if (chosen == null) {
            pool.queue().lost(t);
            return;
        }
        ticket = null;
        long waited = pool.queue().won(t, proxy.clock().nanoTime());
        if (trace != null) {
            trace.queued(waited, null);
        }
        transition(State.SELECTING);
        proceed(chosen, queuedFresh);
    }

    /** Leaves the pool's queue, if in it, without a backend. */
    private void leaveQueue(AdmissionQueue.Exit why) {
        AdmissionQueue.Ticket t = ticket;
        if (t == null) {
            return;
        }
        ticket = null;
        long waited = pool.queue().leave(t, why, proxy.clock().nanoTime());
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
        long nowNanos = proxy.clock().nanoTime();
        Attempt a = new Attempt(chosen, nowNanos);
        attempt = a;
        body.rewind();
        Future<Channel> connection = freshConnection
                ? proxy.pool().connect(chosen, client.eventLoop())
                : proxy.pool().acquire(chosen, client.eventLoop());
        if (connection.isDone()) {
            // A pooled connection: no listener, no extra turn of the loop, no time spent getting it.
            connected(a, connection, nowNanos);
            return;
        }
        transition(State.CONNECTING);
        a.pending = connection;
        connection.addListener(this);
    }

    /** Completion of a new connection (this object is its own listener, to save an allocation). */
    @Override
    public void operationComplete(Future<Channel> connection) {
        Attempt a = attempt;
        if (a == null || a.pending != connection) {
            // This try was given up while connecting; the pool keeps the connection if it was made.
            return;
        }
        connected(a, connection, proxy.clock().nanoTime());
    }

    private void connected(Attempt a, Future<Channel> connection, long nowNanos) {
        a.pending = null;
        if (!connection.isSuccess()) {
            tryFailed(Outcome.CONNECT_FAILURE, true);
            return;
        }
        a.connectNanos = nowNanos - a.startNanos;
        a.attach(connection.getNow(), this);
        transition(State.SENDING);
        writeRequest(a, nowNanos);
    }

    private void writeRequest(Attempt a, long nowNanos) {
        Channel ch = a.channel;
        a.reached = true;
        if (hostFromBackend || !request.headers().contains(HttpHeaderNames.HOST)) {
            // An HTTP/1.0 client may omit Host; the HTTP/1.1 request to the backend must not.
            hostFromBackend = true;
            request.headers().set(HttpHeaderNames.HOST, a.backend.config().authority());
        }
        // Retained: a retry sends the same head again; the last owner releases nothing (no buffer).
        ch.write(request, ch.voidPromise());
        body.writeTo(ch);
        if (!client.inReadBatch()) {
            // Inside a client read the flush waits for channelReadComplete: one write for head and
            // body, and nothing sent at all if the same read turns out to be malformed.
            ch.flush();
        }
        if (body.complete()) {
            requestSent(nowNanos);
        }
        ch.read();
        if (!body.complete() && ch.isWritable()) {
            client.readRequest();
        }
    }

    /** The current try's request is completely written: latency counts from here; per-try timer. */
    private void requestSent(long nowNanos) {
        Attempt a = attempt;
        if (a.sentNanos != 0) {
            return;
        }
        a.sentNanos = nowNanos;
        if (state == State.SENDING) {
            transition(State.AWAITING_HEAD);
        }
        long perTry = settings.perTryTimeoutNanos();
        if (perTry > 0 && state == State.AWAITING_HEAD) {
            a.deadline = a.sentNanos + perTry;
            // A per-try deadline after the client's needs no timer: the client's is armed (when
            // its request was complete, and again before each retry) and ends this try too.
            if (overallDeadline == 0 || a.deadline - overallDeadline < 0) {
                client.armResponseTimer(a.deadline);
            }
        }
    }

    /** The client's request is complete: its whole wait for a response head starts now. */
    private void armOverallDeadline() {
        if (overallDeadline == 0 && state != State.DONE) {
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
    long responseDeadline() {
        if (state == State.DONE || state == State.STREAMING || state == State.TUNNELING) {
            return 0;
        }
        if (state == State.QUEUED) {
            return overallDeadline != 0 && overallDeadline - queueDeadline < 0 ? overallDeadline : queueDeadline;
        }
        long perTry = attempt == null ? 0 : attempt.deadline;
        if (perTry == 0) {
            return overallDeadline;
        }
        return overallDeadline == 0 || perTry - overallDeadline < 0 ? perTry : overallDeadline;
    }

    /**
     * A response deadline passed (the frontend's timer found {@link #responseDeadline()} due). Past
     * the client's whole wait the client gets its 504 now; past only the per-try timeout, the try
     * fails and may be retried with the time that remains.
     */
    void onResponseTimeout() {
        if (state == State.QUEUED) {
            // No backend had room for the whole wait; none saw the request: 503, not 504.
            leaveQueue(AdmissionQueue.Exit.TIMEOUT);
            fail(UpstreamFailure.QUEUE_TIMEOUT);
            return;
        }
        if (state == State.DONE || state == State.STREAMING || state == State.TUNNELING || attempt == null) {
            return;
        }
        boolean overall = overallDeadline != 0 && proxy.clock().nanoTime() - overallDeadline >= 0;
        boolean wasConnecting = state == State.CONNECTING;
        closeBackend();
        if (overall) {
            // A try cut short while still connecting says nothing about the backend's answers.
            endTry(wasConnecting ? Outcome.CANCELLED : Outcome.TIMEOUT);
            fail(UpstreamFailure.RESPONSE_TIMEOUT);
            return;
        }
        tryFailed(Outcome.TIMEOUT, false);
    }

    // ---- backend side ----

    void onResponseHead(HttpResponse response) {
        Attempt a = attempt;
        if (response.decoderResult().isFailure()) {
            malformed(response.decoderResult().cause().getMessage());
            return;
        }
        int code = response.status().code();
        if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            if (code == 101) {
                if (upgrade == null || state != State.AWAITING_HEAD) {
                    // Switching protocols without having been asked (Upgrade is hop-by-hop).
                    malformed(upgrade == null ? "101 to a request without Upgrade" : "101 before the request was sent");
                    return;
                }
                startTunnel(a, response);
                return;
            }
            a.interim = true;
            if (code == 100 && HttpUtil.is100ContinueExpected(request) && clientVersion == HttpVersion.HTTP_1_1) {
                client.writeInterim(response);
            }
            return;
        }
        if (code > 599 || code < 100) {
            // RFC 9110 section 15: a status is three digits, 100 to 599; anything else is a
            // malformed response (the codec already refuses other than three digits).
            malformed("status code " + code + " out of range");
            return;
        }
        long now = proxy.clock().nanoTime();
        if (a.firstByteNanos == 0) {
            a.firstByteNanos = now;
        }
        a.status = code;
        if (upgrade != null) {
            // Answered without switching: the client connection goes on with HTTP.
            tunnel.upgradeRefused();
        }
        if (code == 502 || code == 503 || code == 504) {
            RetryPolicy.Decision retry = decideRetry(new RetryPolicy.Failure(true, false, false));
            if (retry != RetryPolicy.Decision.GIVE_UP) {
                // Drop this answer and its connection; another backend gets the request.
                closeBackend();
                endTry(Outcome.SERVER_ERROR);
                retryAfter(a.backend, retry, false);
                return;
            }
        }
        a.deadline = 0;
        a.reusable = HttpUtil.isKeepAlive(response);
        boolean noBody = head || code == 204 || code == 304;
        closeDelimited = HeaderRules.prepareResponse(response, clientVersion, noBody, requestId,
                settings.backendHeader(), a.backend.id());
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
            AffinityRules.pin(affinity, tries.routing(), response, a.backend,
                    request.headers().contains(HeaderRules.X_FORWARDED_PROTO, "https", true));
        }
        eventStream = isEventStream(response);
        transition(State.STREAMING);
        clientStatus = code;
        servedBy = a.backend.id();
        responseHeadNanos = now;
        client.writeResponse(response);
    }

    /** The media type is {@code text/event-stream} (HTML Living Standard, "Server-sent events"). */
    private static boolean isEventStream(HttpResponse response) {
        CharSequence type = HttpUtil.getMimeType(response);
        return type != null && AsciiString.contentEqualsIgnoreCase(EVENT_STREAM, AsciiString.of(type).trim());
    }

    /**
     * The backend switched protocols: the 101 goes to the client with the protocol it names, both
     * connections drop their HTTP codecs, and from now on bytes are relayed both ways with the
     * same backpressure as a body. The try holds its backend's in-flight slot until the tunnel
     * ends, so a backend's load counts its open tunnels.
     */
    private void startTunnel(Attempt a, HttpResponse response) {
        a.firstByteNanos = proxy.clock().nanoTime();
        a.status = 101;
        a.deadline = 0;
        a.reusable = false;
        String protocol = response.headers().get(HttpHeaderNames.UPGRADE);
        HeaderRules.prepareResponse(response, clientVersion, true, requestId, settings.backendHeader(), a.backend.id());
        if (route != null) {
            route.editResponse(response.headers());
        }
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        if (protocol != null) {
            response.headers().set(HttpHeaderNames.UPGRADE, protocol);
        }
        transition(State.TUNNELING);
        clientStatus = 101;
        servedBy = a.backend.id();
        responseHeadNanos = proxy.clock().nanoTime();
        Channel ch = a.channel;
        ch.pipeline().remove(Http1Encoder.class);
        // A FIN from the backend ends its direction only (onTunnelInputShutdown), not the tunnel.
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        // The 101 is written to the client first. Removed, the backend's decoder hands on at once
        // the bytes it holds past the 101 (a server may send frames right after its handshake,
        // RFC 6455 section 4.2.2, and they often share a read with it), and those are relayed as
        // they come: removed before the 101 is written, they would reach the client ahead of it.
        tunnel.startTunnel(response);
        Http1Decoder decoder = ch.pipeline().get(Http1Decoder.class);
        if (decoder != null) {
            ch.pipeline().remove(decoder);
        }
    }

    /** Bytes through the tunnel; ownership passes here. */
    void onTunnelData(boolean fromBackend, ByteBuf data) {
        Attempt a = attempt;
        if (state != State.TUNNELING || a == null || !a.connected()) {
            data.release();
            return;
        }
        if (fromBackend) {
            bytesOut += data.readableBytes();
            tunnel.writeTunnel(data);
        } else {
            bytesIn += data.readableBytes();
            a.channel.write(data, a.channel.voidPromise());
        }
    }

    /**
     * One side of the tunnel shut down its output (its FIN came, after all its bytes): the other
     * side gets a FIN of its own once what was relayed to it is out, and may go on sending. A
     * WebSocket server closes its TCP connection first (RFC 6455 section 7.1.1), and a client that
     * half-closes still reads what the server has left to send. The tunnel is over when both have.
     */
    void onTunnelInputShutdown(boolean fromBackend) {
        Attempt a = attempt;
        if (state != State.TUNNELING || a == null || !a.connected()) {
            return;
        }
        if (fromBackend) {
            backendSentAll = true;
            tunnel.shutdownTunnelOutput();
        } else {
            clientSentAll = true;
            HalfClose.shutdownOutput(a.channel);
        }
        // A connection without half-close is closed instead, which may have ended the tunnel already.
        if (clientSentAll && backendSentAll && state == State.TUNNELING && a.connected()) {
            HalfClose.closeAfterWrites(a.detach());
            endTry(Outcome.SUCCESS);
            client.abortResponse(this);
            finish();
        }
    }

    /** Whether the exchange relays a switched protocol's bytes. */
    boolean tunneling() {
        return state == State.TUNNELING;
    }

    /**
     * The balancer began its graceful stop. A response that has no end of its own would hold the
     * drain to its timeout, so it ends now: an event stream with its last chunk, which an
     * {@code EventSource} answers by reconnecting (to a balancer still running), and a tunnel with a
     * close, as when either side closes it. Every other exchange goes on to its end.
     */
    void onDrain() {
        if (state == State.TUNNELING) {
            closeBackend();
            endTry(Outcome.SUCCESS);
            client.abortResponse(this);
            finish();
        } else if (state == State.STREAMING && eventStream) {
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

    void onResponseContent(HttpContent content) {
        Attempt a = attempt;
        if (a != null && a.interim) {
            // The end of a 1xx interim response; the final response follows.
            content.release();
            if (content instanceof LastHttpContent) {
                a.interim = false;
            }
            return;
        }
        if (state != State.STREAMING) {
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

    void onBackendReadComplete() {
        if (state == State.DONE) {
            return;
        }
        client.flushToClient();
        Attempt a = attempt;
        boolean relaying = state == State.STREAMING || state == State.TUNNELING;
        if (a != null && a.connected() && (!relaying || client.isWritable())) {
            a.channel.read();
        }
    }

    void onBackendWritable() {
        if ((!body.complete() || state == State.TUNNELING) && state != State.DONE) {
            client.readRequest();
        }
    }

    /** The backend connection closed under this exchange. */
    void onBackendClosed(Channel ch) {
        Attempt a = attempt;
        if (a == null || a.channel != ch || state == State.DONE) {
            return;
        }
        a.detach();
        if (state == State.TUNNELING) {
            // The backend ended the tunnel: what it sent last goes out, then the client closes.
            endTry(Outcome.SUCCESS);
            client.abortResponse(this);
            finish();
            return;
        }
        if (state == State.STREAMING) {
            // Part of the response reached the client; the only honest remedy is to close.
            abortStreaming(Outcome.RESET);
            return;
        }
        tryFailed(Outcome.RESET, true);
    }

    /**
     * The backend connection read nothing for {@code backend-idle}. Before the response that is
     * the response timeout's business; after it began, a backend that stalls mid-body while the
     * client could take more is given up on: the client sees a truncated response and a close.
     */
    void onBackendIdle() {
        // A tunnel's idle time is judged on the client connection, where both directions show.
        if (state == State.STREAMING && client.isWritable()) {
            abortStreaming(Outcome.TIMEOUT);
        }
    }

    private void completeTry() {
        Attempt a = attempt;
        boolean reuse = a.reusable && body.complete();
        Channel ch = a.detach();
        long now = proxy.clock().nanoTime();
        endTry(a.status >= 500 ? Outcome.SERVER_ERROR : Outcome.SUCCESS, now);
        if (reuse) {
            proxy.pool().release(ch);
        } else {
            ch.close();
        }
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
        if (state == State.STREAMING) {
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

    // ---- failures and retries ----

    /**
     * The current try failed without a response reaching the client.
     *
     * @param connectionLost the connection was refused, reset or closed before any response byte,
     *     as opposed to a timeout, an error status or a malformed response
     */
    private void tryFailed(Outcome outcome, boolean connectionLost) {
        if (state == State.DONE) {
            return;
        }
        boolean sent = attempt != null && attempt.reached;
        Backend failed = attempt == null ? null : attempt.backend;
        // Judged before the try ends: a backend that answered nothing since this try was sent is
        // hung, not slow, and moving its requests elsewhere adds no load to a brown-out.
        long now = proxy.clock().nanoTime();
        boolean stalled = outcome == Outcome.TIMEOUT && failed != null && attempt.sentNanos != 0
                && failed.state().stalledNanos(now) >= now - attempt.sentNanos;
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
        return tries.decide(failure, state == State.STREAMING, repeatable && body.replayable(), settings,
                pool.registry().current().backends().size(), pool.retryBudget());
    }

    /** Starts the next try after the one at {@code failed} ended, as {@code retry} allowed. */
    private void retryAfter(Backend failed, RetryPolicy.Decision retry, boolean freshConnection) {
        tries.retrying(failed, retry);
        pool.retryBudget().recordRetry();
        transition(State.SELECTING);
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
        Attempt a = attempt;
        if (a == null) {
            return;
        }
        attempt = null;
        if (a.pending != null) {
            // Still connecting: the pool keeps the connection if it is made.
            Future<Channel> pending = a.pending;
            a.pending = null;
            pending.cancel(false);
        }
        if (a.end(outcome, nowNanos)) {
            // The slot is free: the oldest request waiting in the pool's queue gets a turn.
            pool.queue().slotFreed();
            pool.outcomeListener().onOutcome(a.backend, outcome);
            if (tryLog == null) {
                tryLog = new ArrayList<>(2);
            }
            tryLog.add(new RequestRecord.Try(a.backend.id(), outcome.label(), a.connectNanos,
                    a.firstByteNanos != 0 && a.sentNanos != 0 ? a.firstByteNanos - a.sentNanos : -1, a.status));
        }
    }

    /** Detaches the current try's connection, if any, and closes it. */
    private void closeBackend() {
        Attempt a = attempt;
        Channel ch = a == null ? null : a.detach();
        if (ch != null) {
            ch.close();
        }
    }

    private void fail(UpstreamFailure failure) {
        if (state == State.DONE) {
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
        if (state == State.STREAMING) {
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
        if (state == State.DONE) {
            return;
        }
        // The frontend's timer is shared by the connection's requests; it finds no deadline here
        // and re-arms for the next one, so nothing is scheduled or cancelled per request.
        leaveQueue(AdmissionQueue.Exit.CANCELLED);
        transition(State.DONE);
        body.release();
        tries.release(pool.retryBudget());
        pool.retryBudget().requestEnded();
        record(nowNanos);
        client.exchangeDone(this);
    }

    /** Tells the request meters and the access log what happened, in the request's one record. */
    private void record(long nowNanos) {
        facts.report(proxy, requestId, clientAddress, clientStatus, clientAborted, bytesIn, bytesOut,
                nowNanos - startNanos, responseHeadNanos == 0 ? -1 : responseHeadNanos - startNanos,
                clientAborted && clientStatus == 499 ? null : servedBy, tryLog, trace, error,
                route == null ? null : route.name(), pool.name());
    }

    @Override
    public String toString() {
        return request.method() + " " + request.uri() + " [" + requestId + ", " + state + "]";
    }
}
