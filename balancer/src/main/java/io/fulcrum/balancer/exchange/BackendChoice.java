package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.balancing.LoadBalancer;
import io.fulcrum.balancer.balancing.RequestInfo;
import java.util.concurrent.Executor;

/**
 * The choice of a backend for each try of one exchange: the load balancer's pick with the
 * backend's in-flight slot taken, the wait in the pool's {@link AdmissionQueue} when no backend has
 * room, and the decision trace of the last choice.
 *
 * <p>Admission: a request that finds every backend of its pool at max-in-flight waits in the pool's
 * queue (QUEUED) for at most {@code timeouts.queue}; each turn the queue gives it selects again, and
 * a request still without a backend at the end gets 503 with {@code Retry-After}. The wait counts in
 * the client's whole wait ({@link ResponseDeadlines}), as HAProxy's {@code timeout queue} counts
 * before its server timeout: the queue wait ends at whichever of the two comes first, with the 503
 * (no backend ever saw the request, so it is no gateway timeout).
 *
 * <p>Not thread safe: confined to the client connection's event loop, where the queue runs its turns.
 */
final class BackendChoice {
    private final BackendPool pool;
    private final ProxySettings settings;
    private final ProxyContext proxy;
    /** The decision trace of the current try's selection, or {@code null} when nobody reads it. */
    private DecisionTrace trace;
    /** The wait in the pool's queue while QUEUED, else {@code null}. */
    private QueueWait queued;

    BackendChoice(BackendPool pool, ProxySettings settings, ProxyContext proxy) {
        this.pool = pool;
        this.settings = settings;
        this.proxy = proxy;
    }

    /**
     * Chooses a backend for the next try and takes its slot, or returns {@code null} when none has
     * room, or when others wait in the pool's queue: a request that finds others waiting joins them
     * at the back without selecting, so that the oldest are served first.
     *
     * @param routing the selection's view of the request
     * @param debug whether the client gets the full decision trace
     */
    Backend select(RequestInfo routing, boolean debug) {
        AdmissionQueue queue = pool.queue();
        newTrace(debug);
        if (settings.queues() && !queue.isEmpty() && queue.length() < settings.maxQueue()) {
            if (trace != null) {
                trace.queuedBehind(routing, pool.registry().localRegion());
            }
            return null;
        }
        return choose(routing);
    }

    /** Whether a request without a backend may wait: the pool has a queue and a backend worth waiting for. */
    boolean mayWait() {
        return settings.queues() && QueueWait.worthWaiting(pool);
    }

    /**
     * Joins the pool's queue; the queue's turns come to {@link Forwarder#onQueueTurn} on {@code loop}.
     *
     * @param freshConnection the try after the wait opens a new connection
     * @return {@code false} when the queue is full
     */
    boolean enqueue(Forwarder forwarder, Executor loop, boolean freshConnection) {
        QueueWait wait = QueueWait.join(forwarder, pool.queue(), settings, loop, freshConnection,
                proxy.clock().nanoTime());
        if (wait == null) {
            if (trace != null) {
                trace.queueFull();
            }
            return false;
        }
        queued = wait;
        return true;
    }

    /** Whether {@code wait} is this exchange's wait in the queue, still going on. */
    boolean waiting(QueueWait wait) {
        return wait == queued;
    }

    /** When the queue wait ends, or 0 when not waiting. */
    long queueDeadline() {
        return queued == null ? 0 : queued.deadline();
    }

    /**
     * The queue gave the waiting request a turn (a slot was freed somewhere in the pool). It selects
     * as any request does; without room it keeps its place.
     *
     * @return the backend, its slot taken and the wait over, or {@code null} to wait on
     */
    Backend onTurn(RequestInfo routing, boolean debug) {
        QueueWait wait = queued;
        newTrace(debug);
        Backend chosen = choose(routing);
        if (chosen == null) {
            wait.lost();
            return null;
        }
        queued = null;
        long waited = wait.won(proxy.clock().nanoTime());
        if (trace != null) {
            trace.queued(waited, null);
        }
        return chosen;
    }

    /** Leaves the pool's queue, if in it, without a backend. */
    void leaveQueue(AdmissionQueue.Exit why) {
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

    /**
     * Chooses a backend for a hedge's second try, {@code afterNanos} after the first was sent, and
     * takes its slot; {@code null} when none has room (a hedge never waits in the queue). The
     * trace stays the first try's, with the hedge noted in it.
     */
    Backend hedge(RequestInfo routing, long afterNanos) {
        DecisionTrace first = trace;
        trace = null;
        Backend chosen = choose(routing);
        trace = first;
        if (first != null) {
            first.hedged(chosen == null ? null : chosen.id(), afterNanos);
        }
        return chosen;
    }

    /** The hedge's second try answered first. */
    void hedgeWon() {
        if (trace != null) {
            trace.hedgeWon();
        }
    }

    /** The last selection's trace, or {@code null}. */
    DecisionTrace trace() {
        return trace;
    }

    /** The last selection's full trace when {@code debug}, else {@code null}. */
    String detailedTrace(boolean debug) {
        return debug && trace != null ? trace.detailed() : null;
    }

    private void newTrace(boolean debug) {
        if (debug) {
            trace = DecisionTrace.fullTrace();
        } else if (proxy.accessLog().enabled()) {
            trace = DecisionTrace.compactTrace();
        }
    }

    /** A backend below its max-in-flight with its slot taken, or {@code null} when none has room. */
    private Backend choose(RequestInfo routing) {
        LoadBalancer lb = pool.registry().current().loadBalancer();
        Backend chosen = lb.select(routing, trace);
        if (chosen != null && !chosen.tryAcquire()) {
            // Lost a race for the last slot; one more choice before giving up.
            chosen = lb.select(routing, trace);
            if (chosen != null && !chosen.tryAcquire()) {
                chosen = null;
            }
        }
        return chosen;
    }
}
