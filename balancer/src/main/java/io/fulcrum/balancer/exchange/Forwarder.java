package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.access.Verdict;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.netty.util.concurrent.Future;
import io.netty.handler.codec.http.HttpResponse;
import java.util.List;

/**
 * Gets an exchange's request a response head from a backend of its pool, as Envoy's router filter
 * does with its upstream requests: it chooses the backend of each try and waits in the pool's queue
 * when none has room ({@link BackendChoice}), starts the {@link UpstreamTry} and writes the
 * {@link BackendRequest} to it, waits for the head within the {@link ResponseDeadlines}, and after
 * a failed try starts another where {@link RetryPolicy} and the retry budget allow ({@link Tries}),
 * or hands the {@link Exchange} the failure for its client. It holds the current try; the exchange
 * relays what the try's connection carries once the response began, and ends the try with the
 * exchange.
 *
 * <p>It drives the exchange's states from SELECTING to AWAITING_HEAD ({@link ExchangeState});
 * whatever follows the head is the exchange's.
 *
 * <p>Not thread safe: confined to the client connection's event loop, which also runs the backend
 * connection and the queue's turns.
 */
final class Forwarder {
    final Exchange exchange;
    final ClientSide client;
    final ProxyContext proxy;
    /** The pool the request's route chose; every try stays in it. */
    final BackendPool pool;
    final ProxySettings settings;
    private final BackendRequest request;
    private final ExchangeReport report;
    // The fields without "private" are the hedge's too: it starts and ends a try beside the current one.
    final Tries tries;
    final BackendChoice choice;
    private final ResponseDeadlines deadlines;
    /** The current try; {@code null} between tries and once done. */
    private UpstreamTry upstream;
    /** The authentication to wait for before the first try, or {@code null}; taken once done. */
    private Future<Verdict> access;
    /** The route's hedging of this request, or {@code null} when it sends one try at a time. */
    private Hedge hedge;

    /**
     * @param routing the selection's view of the request (the client's region, its affinity)
     * @param auth the authentication the first try waits for, or {@code null}
     */
    Forwarder(Exchange exchange, ClientSide client, ProxyContext proxy, BackendPool pool, ProxySettings settings,
            BackendRequest request, ExchangeReport report, RequestInfo routing, Future<Verdict> auth) {
        this.access = auth;
        this.exchange = exchange;
        this.client = client;
        this.proxy = proxy;
        this.pool = pool;
        this.settings = settings;
        this.request = request;
        this.report = report;
        this.tries = new Tries(routing);
        this.choice = new BackendChoice(pool, settings, proxy);
        this.deadlines = new ResponseDeadlines(client, settings, request.grpcTimeoutNanos());
    }

    /** The current try, or {@code null} between tries and once done. */
    UpstreamTry current() {
        return upstream;
    }

    /** Makes {@code t}, a hedge's try that won or outlasted its race, the current try. */
    void current(UpstreamTry t) {
        upstream = t;
    }

    /** Hedges the request as {@code h} says; {@code null} for none. */
    void hedge(Hedge h) {
        this.hedge = h;
    }

    /** What selection knows of the request now: the client's region and the backends tried. */
    RequestInfo routing() {
        return tries.routing();
    }

    /** Starts the first try, once the authentication it waits for passed it. */
    void start() {
        pool.retryBudget().requestStarted();
        Future<Verdict> gate = access;
        if (gate == null) {
            select(false);
        } else if (gate.isDone()) {
            onAccess(gate);
        } else {
            gate.addListener(f -> onAccess(gate));
        }
    }

    /** The authentication decided: the first try starts, or the client gets the check's answer. */
    private void onAccess(Future<Verdict> gate) {
        if (access != gate) {
            return; // released: the exchange ended meanwhile, and the verdict with it
        }
        access = null;
        Verdict v = gate.getNow();
        if (v == null) {
            return;
        }
        if (v.passes()) {
            select(false);
        } else {
            // Answered in the backend's place, before any try.
            proxy.refusedByAccess();
            report.refused(v.response().status(), v.reason());
            client.writeAnswer(exchange, v.response(), !request.complete() && !request.bodyless());
            exchange.finish();
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
            exchange.fail(UpstreamFailure.NO_BACKEND);
        } else if (choice.enqueue(this, client.eventLoop(), freshConnection)) {
            exchange.transition(ExchangeState.QUEUED);
            deadlines.queued(choice.queueDeadline());
        } else {
            exchange.fail(UpstreamFailure.QUEUE_FULL);
        }
    }

    /** The queue gave this request a turn; it goes on when a backend had room for it. */
    void onQueueTurn(QueueWait wait) {
        if (exchange.state() != ExchangeState.QUEUED || !choice.waiting(wait)) {
            return;
        }
        Backend chosen = choice.onTurn(tries.routing(), report.debug());
        if (chosen != null) {
            exchange.transition(ExchangeState.SELECTING);
            proceed(chosen, wait.freshConnection());
        }
    }

    /** Starts a try at {@code chosen}, whose slot is taken, and gets it a connection. */
    private void proceed(Backend chosen, boolean freshConnection) {
        tries.started();
        // Read after the backend's slot was taken: a try is sent no earlier than the backend's
        // last sign of progress (tryAcquire starts its busy time), so "answered nothing since
        // this try was sent" stays true of a hung backend.
        UpstreamTry t = new UpstreamTry(chosen, pool, proxy, exchange, proxy.clock().nanoTime());
        upstream = t;
        request.rewind();
        if (t.connect(client.eventLoop(), freshConnection)) {
            exchange.transition(ExchangeState.CONNECTING);
        }
    }

    /** The try has its connection ({@link UpstreamTry.Listener#onConnected}): the request goes out. */
    void onConnected(UpstreamTry t, long nowNanos) {
        if (hedge != null && hedge.isSecond(t)) {
            // A hedge's second try: the request is whole and held, and the exchange awaits a head.
            request.rewind();
            request.writeTo(t, true);
            t.sent(nowNanos);
            deadlines.trySent(t);
            t.read();
            return;
        }
        exchange.transition(ExchangeState.SENDING);
        if (request.grpcTimeoutNanos() > 0) {
            // The backend's deadline is what is left of the call's (gRPC passes deadlines on); the
            // call may stream past timeouts.response, which bounds only the wait for its head.
            request.grpcTimeoutLeft(request.grpcTimeoutNanos() - (nowNanos - report.startNanos()));
        }
        request.writeTo(t, !client.inReadBatch());
        if (request.complete()) {
            requestSent(nowNanos);
        }
        t.read();
        if (!request.complete() && t.writable()) {
            client.readRequest();
        }
    }

    /** The client sent more of the body: the current try gets it, and its end starts the client's wait. */
    void onRequestBody() {
        if (request.complete()) {
            // The client's whole wait for a response head starts now; a request announced without
            // a body was complete when its head was read.
            // A gRPC call's deadline runs from the call's start, as its client's does.
            deadlines.requestComplete(request.bodyless() || request.grpc() ? report.startNanos()
                    : proxy.clock().nanoTime());
        }
        UpstreamTry t = upstream;
        if (t != null && t.connected()) {
            request.writeBodyTo(t);
            if (request.complete()) {
                requestSent(proxy.clock().nanoTime());
            }
        }
    }

    /** The current try's request is completely written: latency counts from here; per-try timer. */
    private void requestSent(long nowNanos) {
        UpstreamTry t = upstream;
        if (!t.sent(nowNanos)) {
            return;
        }
        if (exchange.state() == ExchangeState.SENDING) {
            exchange.transition(ExchangeState.AWAITING_HEAD);
        }
        if (exchange.state() == ExchangeState.AWAITING_HEAD) {
            deadlines.trySent(t);
            if (hedge != null && request.heldWhole()) {
                deadlines.alsoBy(hedge.firstSent(nowNanos));
            }
        }
    }

    // ---- deadlines ----

    /** {@link Exchange#responseDeadline()}. */
    long responseDeadline() {
        ExchangeState state = exchange.state();
        if (state == ExchangeState.DONE || state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING) {
            return 0;
        }
        long first = deadlines.first(state == ExchangeState.QUEUED ? choice.queueDeadline()
                : upstream == null ? 0 : upstream.deadline());
        long race = hedge == null ? 0 : hedge.deadline();
        return race == 0 || (first != 0 && first - race < 0) ? first : race;
    }

    /** {@link Exchange#onResponseTimeout()}. */
    void onResponseTimeout() {
        ExchangeState state = exchange.state();
        if (state == ExchangeState.QUEUED) {
            // No backend had room for the whole wait; none saw the request: 503, not 504.
            choice.leaveQueue(AdmissionQueue.Exit.TIMEOUT);
            exchange.fail(UpstreamFailure.QUEUE_TIMEOUT);
            return;
        }
        if (state == ExchangeState.DONE || state == ExchangeState.STREAMING || state == ExchangeState.TUNNELING
                || upstream == null) {
            return;
        }
        if (deadlines.overallPassed(proxy.clock().nanoTime())) {
            // A try cut short while still connecting says nothing about the backend's answers.
            dropTry(state == ExchangeState.CONNECTING ? Outcome.CANCELLED : Outcome.TIMEOUT);
            exchange.fail(UpstreamFailure.RESPONSE_TIMEOUT);
            return;
        }
        if (hedge != null && hedge.onTimeout(proxy.clock().nanoTime())) {
            deadlines.alsoBy(responseDeadline());
            return;
        }
        closeBackend();
        tryFailed(Outcome.TIMEOUT, false);
    }

    // ---- failures and retries ----

    /**
     * The current try failed without a response reaching the client; its connection is closed.
     *
     * @param connectionLost the connection was refused, reset or closed before any response byte,
     *     as opposed to a timeout, an error status or a malformed response
     */
    void tryFailed(Outcome outcome, boolean connectionLost) {
        if (exchange.state() == ExchangeState.DONE) {
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
        exchange.fail(switch (outcome) {
            case CONNECT_FAILURE -> UpstreamFailure.CONNECT_FAILED;
            case TIMEOUT -> UpstreamFailure.RESPONSE_TIMEOUT;
            case MALFORMED -> UpstreamFailure.MALFORMED_RESPONSE;
            default -> sent ? UpstreamFailure.RESET_BEFORE_RESPONSE : UpstreamFailure.CONNECT_FAILED;
        });
    }

    /**
     * Whether the try's answer, a head, goes no further: dropped for a retry
     * ({@link #retriesAfter}), or announcing a body past {@code max-response-bytes} ({@code tooLarge}),
     * which the client gets as a 502 instead.
     */
    boolean headRefused(UpstreamTry t, HttpResponse head, boolean tooLarge) {
        if (retriesAfter(t, head)) {
            return true;
        }
        if (tooLarge) {
            exchange.fail(UpstreamFailure.RESPONSE_TOO_LARGE);
        }
        return tooLarge;
    }

    /**
     * The try answered {@code head}: a 502, 503 or 504, or a gRPC call's trailers-only
     * {@code UNAVAILABLE} (no response message was sent), is dropped with its connection when
     * another try may follow, and another backend gets the request.
     *
     * @return whether the answer was dropped for a retry
     */
    private boolean retriesAfter(UpstreamTry t, HttpResponse head) {
        int status = head.status().code();
        if (status != 502 && status != 503 && status != 504 && !(request.grpc() && Grpc.unavailable(head))) {
            return false;
        }
        // budget-percent: 0 is the operator refusing every budgeted retry, a lone backend's 5xx included.
        RetryPolicy.Decision retry = decideRetry(new RetryPolicy.Failure(true, false, false,
                settings.retryBudgetPercent() > 0
                        && pool.registry().current().othersFailLittle(t.backend(), proxy.clock().nanoTime())));
        if (retry == RetryPolicy.Decision.GIVE_UP) {
            return false;
        }
        // Drop this answer and its connection; another backend gets the request.
        dropTry(Outcome.SERVER_ERROR);
        retryAfter(t.backend(), retry, false);
        return true;
    }

    /**
     * Whether another try may follow the failed one ({@link RetryPolicy}, the retry budget), within
     * the client's deadline.
     */
    private RetryPolicy.Decision decideRetry(RetryPolicy.Failure failure) {
        if (deadlines.overallPassed(proxy.clock().nanoTime())) {
            return RetryPolicy.Decision.GIVE_UP;
        }
        return tries.decide(failure, exchange.state() == ExchangeState.STREAMING, request.repeatable(), settings,
                pool.registry().current().backends().size(), pool.retryBudget());
    }

    /** Starts the next try after the one at {@code failed} ended, as {@code retry} allowed. */
    private void retryAfter(Backend failed, RetryPolicy.Decision retry, boolean freshConnection) {
        tries.retrying(failed, retry);
        pool.retryBudget().recordRetry();
        exchange.transition(ExchangeState.SELECTING);
        deadlines.retrying();
        select(freshConnection);
    }

    // ---- the current try's end ----

    /**
     * Closes the current try's connection, if any, and ends the try with {@code outcome}; so too
     * a hedge's try racing with it.
     */
    void dropTry(Outcome outcome) {
        closeBackend();
        endTry(outcome, proxy.clock().nanoTime());
        if (hedge != null) {
            hedge.dropRival(outcome);
        }
    }

    /** Ends the current try: frees its backend's in-flight slot and reports the outcome. */
    void endTry(Outcome outcome, long nowNanos) {
        UpstreamTry t = upstream;
        if (t == null) {
            return;
        }
        upstream = null;
        if (hedge != null) {
            hedge.currentEnded();
        }
        ended(t, outcome, null, nowNanos);
    }

    /**
     * Ends {@code t} with {@code outcome}; the access log names it {@code label}, or the outcome's
     * label when {@code null}.
     */
    void ended(UpstreamTry t, Outcome outcome, String label, long nowNanos) {
        RequestRecord.Try logged = t.end(outcome, nowNanos);
        if (logged != null) {
            tries.ended(label == null ? logged : new RequestRecord.Try(logged.backend(), label, logged.connectNanos(),
                    logged.firstByteNanos(), logged.status()));
        }
    }

    /** Lets the current try's connection go, if any, and closes it. */
    void closeBackend() {
        if (upstream != null) {
            upstream.close();
        }
    }

    /** The exchange is ending: it leaves the pool's queue, if in it, without a backend. */
    void leaveQueue() {
        choice.leaveQueue(AdmissionQueue.Exit.CANCELLED);
    }

    /** The exchange ended: gives back its retry-budget slot, if it holds one, and its place in the budget. */
    void release() {
        if (hedge != null) {
            hedge.dropRival(Outcome.CANCELLED);
        }
        Future<Verdict> gate = access;
        access = null;
        if (gate != null && !gate.cancel(false) && gate.getNow() != null) {
            gate.getNow().release(); // decided, but never taken: its answer is not written
        }
        tries.release(pool.retryBudget());
        pool.retryBudget().requestEnded();
    }

    /** The tries that ended, in order, or {@code null} when none did. */
    List<RequestRecord.Try> tried() {
        return tries.log();
    }

    /** The last selection's trace, or {@code null}. */
    DecisionTrace trace() {
        return choice.trace();
    }

    /** The last selection's full trace when {@code debug}, else {@code null}. */
    String detailedTrace(boolean debug) {
        return choice.detailedTrace(debug);
    }
}
