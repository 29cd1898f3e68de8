package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.access.RouteAccess;
import io.fulcrum.balancer.access.Verdict;
import io.fulcrum.balancer.balancing.Affinity;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.edge.AffinityRules;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.Future;

/**
 * One client request and its way to a response, as an explicit state machine ({@link ExchangeState}).
 *
 * <p>The exchange holds the state and the client connection, reached only through {@link ClientSide}
 * (and a {@link TunnelSide} for an upgrade request). Its {@link Forwarder} gets the request a
 * response head, as Envoy's router filter does with its upstream requests: it chooses a backend
 * (waiting in the pool's queue when none has room), sends the {@link BackendRequest} (its body
 * held in a {@link ReplayBuffer} for a retry), keeps the client's overall deadline, and retries.
 * Each try is one {@link UpstreamTry} (its backend slot, connection, request write, per-try
 * deadline and outcome), which reports back to the exchange through {@link UpstreamTry.Listener};
 * a retry is a new one. Once the head came, the exchange makes it ready for the client
 * ({@link ClientResponse}); its {@link Relay} moves the bytes between the two connections (the
 * request body, the response body, or after a 101 a {@link Tunnel}'s). What the access log and
 * the meters hear at the end is gathered in an {@link ExchangeReport}. Transitions are checked with
 * {@code assert}: an impossible one fails the tests loudly and costs nothing in production.
 *
 * <p>Not thread safe: confined to the client channel's event loop, which also runs the backend
 * connection.
 */
public final class Exchange implements UpstreamTry.Listener {
    /** The response header of the full decision trace, for trusted clients that ask for it. */
    public static final AsciiString DECISION_HEADER = AsciiString.cached("X-Fulcrum-Decision");

    private final ClientSide client;
    /** The client connection's side for switching protocols when the request asks to upgrade, else {@code null}. */
    private final TunnelSide tunnelSide;
    private final ProxyContext proxy;
    private final String requestId;
    private final BackendRequest request;
    private final Forwarder forwarder;
    private final Relay relay;
    private final ClientResponse response;
    private final ExchangeReport report;
    /** The route's hedging of this request, or {@code null} when it sends one try at a time. */
    private final Hedge hedge;

    private ExchangeState state = ExchangeState.SELECTING;

    /**
     * @param tunnels the connection's side for switching protocols, or {@code null} where it
     *     cannot switch (an HTTP/2 stream); kept only when the request asks to upgrade
     * @param pool the pool {@code route} chose
     * @param route the route of the request, or {@code null} when there are no route edits
     * @param settings the pool's settings
     * @param access the route's access rules; {@code auth} what the first try waits for (either {@code null})
     */
    Exchange(ClientSide client, TunnelSide tunnels, ProxyContext proxy, BackendPool pool, Route<BackendPool> route,
            ProxySettings settings, HttpRequest request, String requestId, String clientRegion, String clientAddress,
            RouteAccess access, Future<Verdict> auth) {
        this.client = client;
        this.proxy = proxy;
        this.requestId = requestId;
        this.request = new BackendRequest(request, settings, tunnels != null, client instanceof GrpcReplies);
        this.tunnelSide = this.request.upgrades() ? tunnels : null;
        Affinity affinity = pool.registry().current().loadBalancer().affinity();
        this.response = new ClientResponse(request, requestId, settings, route, affinity, access);
        this.report = new ExchangeReport(requestId, clientAddress, proxy.clock().nanoTime(),
                route == null ? null : route.name(), pool.name());
        this.forwarder = new Forwarder(this, client, proxy, pool, settings, this.request, report,
                AffinityRules.routing(affinity, request, clientAddress, clientRegion), auth);
        this.relay = new Relay(this, client, forwarder, this.request, report, response);
        this.hedge = Hedge.of(route, forwarder, request, this.request.upgrades());
        forwarder.hedge(hedge);
    }

    /** The request's facts for the access log and the meters; set by the frontend before {@link #start()}. */
    void facts(RequestFacts facts) {
        report.facts(facts);
    }

    /** Copies the request to its route's shadow pool as it comes ({@link Mirror}). */
    void mirror(Mirror copy) {
        request.mirror(copy);
    }

    /**
     * The full decision trace of the last selection when this client asked for it and may see it,
     * else {@code null}; for the balancer's own error responses (a 503 says why nothing was chosen).
     */
    public String decisionForClient() {
        return forwarder.detailedTrace(report.debug());
    }

    void transition(ExchangeState next) {
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
        return request.complete();
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
        return request.bodyless();
    }

    /** Whether the frontend should read more of the request body now. */
    public boolean wantsRequestData() {
        return relay.wantsRequestData();
    }

    /** Starts the first try. {@code request} was already rewritten by {@link HeaderRules}. */
    public void start() {
        request.rewritten();
        forwarder.start();
    }

    // ---- client side ----

    /** A part of the request body, before or after {@link #start()}; ownership passes to this exchange. */
    public void onRequestContent(HttpContent content) {
        if (state == ExchangeState.DONE) {
            content.release();
            return;
        }
        if (request.tooLargeWith(content)) {
            content.release();
            abort(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large");
            return;
        }
        report.received(content.content().readableBytes());
        request.add(content);
        forwarder.onRequestBody();
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
        forwarder.dropTry(tunnelEnd ? Outcome.SUCCESS : Outcome.CANCELLED);
        if (!tunnelEnd) {
            report.cut();
        }
        finish();
    }

    /** The client can take more response bytes. */
    public void onClientWritable() {
        relay.onClientWritable();
    }

    /** The client sent nothing for {@code client-idle} while its request body was awaited: 408. */
    public void onClientIdleMidRequest() {
        if (state != ExchangeState.DONE) {
            abort(HttpResponseStatus.REQUEST_TIMEOUT, "request body timed out");
        }
    }

    /** Flushes what the client side wrote to the backend during one read. */
    public void flushToBackend() {
        relay.flushToBackend();
    }

    // ---- the way to a response head ----

    @Override
    public void onConnected(UpstreamTry t, long nowNanos) {
        forwarder.onConnected(t, nowNanos);
    }

    /**
     * When the next response deadline falls (the per-try one, the queue wait's, or the client's
     * whole wait, whichever is first), or 0 when this exchange is not waiting for a response head.
     */
    public long responseDeadline() {
        return forwarder.responseDeadline();
    }

    /**
     * A response deadline passed (the frontend's timer found {@link #responseDeadline()} due). Past
     * the client's whole wait the client gets its 504 now; past only the per-try timeout, the try
     * fails and may be retried with the time that remains.
     */
    public void onResponseTimeout() {
        forwarder.onResponseTimeout();
    }

    // ---- what the try reports ----

    @Override
    public void onFailed(UpstreamTry t, Outcome outcome, String detail) {
        if (state == ExchangeState.DONE || (hedge != null && hedge.failed(t, outcome)) || t != forwarder.current()) {
            // Done, or one of two racing tries failed and the other goes on.
            return;
        }
        if (outcome == Outcome.MALFORMED) {
            malformed(detail);
        } else if (outcome != Outcome.RESET) {
            forwarder.tryFailed(outcome, true);
        } else if (state == ExchangeState.TUNNELING) {
            // The backend ended the tunnel: what it sent last goes out, then the client closes.
            endWithClose(Outcome.SUCCESS);
        } else if (state == ExchangeState.STREAMING) {
            // Part of the response reached the client; the only honest remedy is to close.
            abortStreaming(Outcome.RESET);
        } else {
            forwarder.tryFailed(Outcome.RESET, true);
        }
    }

    @Override
    public void onInterim(UpstreamTry t, HttpResponse interim) {
        if (t == forwarder.current() && response.awaits(interim)) {
            client.writeInterim(interim);
        }
    }

    @Override
    public void onHead(UpstreamTry t, HttpResponse head) {
        int code = head.status().code();
        if (hedge != null && !hedge.headWins(t, code)) {
            return;
        }
        if (code == 101) {
            switchProtocols(t, head);
            return;
        }
        if (tunnelSide != null) {
            // Answered without switching: the client connection goes on with HTTP.
            tunnelSide.upgradeRefused();
        }
        if (forwarder.headRefused(t, head, response.tooLarge(head))) {
            return;
        }
        response.prepare(head, t.backend(), proxy.draining(), decisionForClient(), forwarder.routing());
        transition(ExchangeState.STREAMING);
        report.answered(code, t.backend(), t.firstByteNanos());
        client.writeResponse(head);
    }

    @Override
    public void onBody(UpstreamTry t, HttpContent content) {
        relay.onBody(content);
    }

    @Override
    public void onReadComplete(UpstreamTry t) {
        if (t == forwarder.current()) {
            relay.onBackendReadComplete();
        } else if (hedge != null) {
            hedge.readOn(t);
        }
    }

    @Override
    public void onWritable(UpstreamTry t) {
        relay.onBackendWritable();
    }

    @Override
    public void onIdle(UpstreamTry t) {
        relay.onBackendIdle();
    }

    /** The response's last part went to the client: the try ends, its connection back to the pool if it may. */
    void completeTry() {
        UpstreamTry t = forwarder.current();
        long now = proxy.clock().nanoTime();
        forwarder.endTry(t.status() >= 500 ? Outcome.SERVER_ERROR : Outcome.SUCCESS, now);
        t.release(request.complete());
        // finish() ends in exchangeDone, which flushes the response's end.
        finish(now);
    }

    /**
     * The backend's answer could not be parsed ({@code why}, the decoder's words): before the
     * response began, the try fails and may be retried like a 502 ({@link RetryPolicy}); after, the
     * response is cut. Either way the connection is closed, since its framing is lost.
     */
    void malformed(String why) {
        if (state == ExchangeState.STREAMING) {
            report.malformedMidResponse(why);
            abortStreaming(Outcome.MALFORMED);
            return;
        }
        report.malformed(why);
        forwarder.closeBackend();
        forwarder.tryFailed(Outcome.MALFORMED, false);
    }

    /** The response broke after it began: close both sides; the client sees a cut response. */
    void abortStreaming(Outcome outcome) {
        forwarder.closeBackend();
        report.cut();
        endWithClose(outcome);
    }

    // ---- a switched protocol ----

    /**
     * The backend switched protocols: the 101 goes to the client with the protocol it names, and
     * from now on a {@link Tunnel} relays bytes both ways.
     */
    private void switchProtocols(UpstreamTry t, HttpResponse switching) {
        if (tunnelSide == null || state != ExchangeState.AWAITING_HEAD) {
            // Switching protocols without having been asked (Upgrade is hop-by-hop).
            malformed(tunnelSide == null ? "101 to a request without Upgrade" : "101 before the request was sent");
            return;
        }
        long now = proxy.clock().nanoTime();
        response.prepareSwitch(switching, t.backend());
        transition(ExchangeState.TUNNELING);
        report.answered(101, t.backend(), now);
        relay.openTunnel(tunnelSide, t, switching, now);
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
        relay.onTunnelData(fromBackend, data);
    }

    /** One side of the tunnel sent its last byte ({@link Tunnel#inputShutdown}); both have: it is over. */
    public void onTunnelInputShutdown(boolean fromBackend) {
        relay.onTunnelInputShutdown(fromBackend);
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
        relay.onDrain();
    }

    // ---- the end ----

    /** Ends the try and the exchange with the client connection's close, after what was written to it. */
    void endWithClose(Outcome outcome) {
        forwarder.endTry(outcome, proxy.clock().nanoTime());
        client.abortResponse(this);
        finish();
    }

    /** Ends the exchange with {@code failure}, before any response reached the client. */
    void fail(UpstreamFailure failure) {
        if (state == ExchangeState.DONE) {
            return;
        }
        forwarder.dropTry(Outcome.CANCELLED);
        report.failed(failure);
        client.writeError(this, failure.status(), failure.message(), !request.complete() && !request.bodyless(),
                failure.retryAfter());
        finish();
    }

    /** Ends the exchange with an error of the balancer's own (body too large, 400, 408). */
    private void abort(HttpResponseStatus status, String message) {
        if (state == ExchangeState.STREAMING) {
            abortStreaming(Outcome.CANCELLED);
            return;
        }
        forwarder.dropTry(Outcome.CANCELLED);
        report.refused(status, message);
        client.writeError(this, status, message, true, false);
        finish();
    }

    void finish() {
        finish(proxy.clock().nanoTime());
    }

    private void finish(long nowNanos) {
        if (state == ExchangeState.DONE) {
            return;
        }
        // The frontend's timer is shared by the connection's requests; it finds no deadline here
        // and re-arms for the next one, so nothing is scheduled or cancelled per request.
        forwarder.leaveQueue();
        transition(ExchangeState.DONE);
        request.release();
        response.release();
        forwarder.release();
        // The meters and the access log hear what happened, in the request's one record.
        report.report(proxy, client, forwarder.tried(), forwarder.trace(), nowNanos);
        client.exchangeDone(this);
    }

    @Override
    public String toString() {
        return request + " [" + requestId + ", " + state + "]";
    }
}
