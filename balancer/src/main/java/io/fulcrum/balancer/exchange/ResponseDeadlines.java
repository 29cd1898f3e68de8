package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.edge.DeadlineTimer;
import io.netty.channel.EventLoop;

/**
 * The response deadlines of one exchange, and the one timer of the client connection they share
 * ({@link ClientSide#responseTimer()}), which the exchange arms itself. {@code timeouts.response} bounds the client's whole wait,
 * from its request complete to the response head, whatever the number of tries; each retry gets
 * what remains, and when it runs out the client has its 504. {@code retry.per-try-timeout} bounds
 * one try inside it, from its request sent to the response head ({@link UpstreamTry#deadline()}).
 *
 * <p>Not thread safe: confined to the client connection's event loop.
 */
final class ResponseDeadlines {
    private final DeadlineTimer timer;
    private final EventLoop loop;
    private final long responseNanos;
    private final long perTryNanos;
    /** When the client's whole wait ends, or 0 before its request is complete. */
    private long overall;

    /** @param ownNanos the request's own deadline (a gRPC call's {@code grpc-timeout}), or 0; never past {@code timeouts.response} */
    ResponseDeadlines(ClientSide client, ProxySettings settings, long ownNanos) {
        this.timer = client.responseTimer();
        this.loop = client.eventLoop();
        this.responseNanos = ownNanos > 0 ? Math.min(ownNanos, settings.responseTimeoutNanos())
                : settings.responseTimeoutNanos();
        this.perTryNanos = settings.perTryTimeoutNanos();
    }

    /** The client's request is complete (at {@code completeNanos}): its whole wait for a response head starts. */
    void requestComplete(long completeNanos) {
        if (overall == 0) {
            overall = completeNanos + responseNanos;
            arm(overall);
        }
    }

    /** Whether the client's whole wait is over. */
    boolean overallPassed(long nowNanos) {
        return overall != 0 && nowNanos - overall >= 0;
    }

    /** The request of {@code upstream} is completely written and awaits its head: its own timeout starts, if any. */
    void trySent(UpstreamTry upstream) {
        if (perTryNanos > 0) {
            long deadline = upstream.startPerTryTimeout(perTryNanos);
            // A per-try deadline after the client's needs no timer: the client's is armed (when
            // its request was complete, and again before each retry) and ends this try too.
            if (overall == 0 || deadline - overall < 0) {
                arm(deadline);
            }
        }
    }

    /** Another try follows a failed one. */
    void retrying() {
        if (overall != 0) {
            // The connection's timer may be the one that just fired for the failed try's per-try
            // deadline: nothing is scheduled any more. The client's deadline is armed again before
            // the next try, which may connect for a while and whose own per-try deadline, when it
            // falls after the client's, arms nothing (trySent).
            arm(overall);
        }
    }

    /** The request waits in the pool's queue until {@code queueDeadline} at most. */
    void queued(long queueDeadline) {
        arm(first(queueDeadline));
    }

    /** Makes sure the connection's timer fires no later than {@code deadline}, if not 0 (none). */
    void alsoBy(long deadline) {
        if (deadline != 0) {
            arm(deadline);
        }
    }

    /** Makes sure the connection's timer fires no later than {@code deadline}. */
    private void arm(long deadline) {
        timer.arm(loop, deadline);
    }

    /**
     * The sooner of {@code deadline} (a try's or the queue wait's, 0 for none) and the client's
     * whole wait, or 0 when neither applies.
     */
    long first(long deadline) {
        if (deadline == 0) {
            return overall;
        }
        return overall == 0 || deadline - overall < 0 ? deadline : overall;
    }
}
