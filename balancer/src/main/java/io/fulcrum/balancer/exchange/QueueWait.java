package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * One exchange's wait in its pool's {@link AdmissionQueue}: its place (the queue's ticket), when
 * the wait ends ({@code timeouts.queue} after it began), and whether the try it leads to opens a
 * new connection. It is itself the turn the queue hands the exchange's loop, so a wait allocates
 * nothing beyond this object and the queue's ticket, and a request that never waits allocates
 * neither.
 *
 * <p>Not thread safe: confined to the exchange's event loop, where the queue runs its turns.
 */
final class QueueWait implements Runnable {
    private final Forwarder forwarder;
    private final AdmissionQueue queue;
    private final long deadline;
    private final boolean freshConnection;
    /** The place in the queue; {@code null} once the wait is over. */
    private AdmissionQueue.Ticket ticket;

    private QueueWait(Forwarder forwarder, AdmissionQueue queue, long deadline, boolean freshConnection) {
        this.forwarder = forwarder;
        this.queue = queue;
        this.deadline = deadline;
        this.freshConnection = freshConnection;
    }

    /**
     * Queues {@code forwarder}'s request at the back of {@code queue}, or returns {@code null} when the queue
     * holds {@code limits.max-queue} waiters already (the queue counts the refusal).
     *
     * @param loop the exchange's event loop, where its turns run ({@link Forwarder#onQueueTurn})
     * @param freshConnection the try after the wait opens a new connection (a retry after a lost one)
     */
    static QueueWait join(Forwarder forwarder, AdmissionQueue queue, ProxySettings settings, Executor loop,
            boolean freshConnection, long nowNanos) {
        QueueWait wait = new QueueWait(forwarder, queue, nowNanos + settings.queueTimeoutNanos(), freshConnection);
        wait.ticket = queue.offer(settings.maxQueue(), loop, wait, nowNanos);
        return wait.ticket == null ? null : wait;
    }

    /**
     * Whether a backend of the pool could take the request once it has room: one that is not
     * draining (selection falls back to those in panic mode). A pool that is empty or all draining
     * gets no slot by waiting, so its requests fail at once, as HAProxy's do without a usable server.
     */
    static boolean worthWaiting(BackendPool pool) {
        List<Backend> backends = pool.registry().current().backends();
        for (int i = 0, n = backends.size(); i < n; i++) {
            if (!backends.get(i).state().draining()) {
                return true;
            }
        }
        return false;
    }

    /** When the wait ends (a 503 then, unless the client's own deadline comes first). */
    long deadline() {
        return deadline;
    }

    /** Whether the try after the wait opens a new connection instead of reusing an idle one. */
    boolean freshConnection() {
        return freshConnection;
    }

    /** The queue's turn: on the exchange's loop, where it selects again. */
    @Override
    public void run() {
        if (ticket != null) {
            forwarder.onQueueTurn(this);
        }
    }

    /** The turn found no backend with room: the exchange keeps its place for the next one. */
    void lost() {
        queue.lost(ticket);
    }

    /**
     * The turn found a backend: the wait is over.
     *
     * @return how long it waited, in nanoseconds
     */
    long won(long nowNanos) {
        AdmissionQueue.Ticket t = ticket;
        ticket = null;
        return queue.won(t, nowNanos);
    }

    /**
     * Leaves the queue without a backend (the wait ran out, or the exchange ended).
     *
     * @return how long it waited, or a negative number when it had left already
     */
    long leave(AdmissionQueue.Exit why, long nowNanos) {
        AdmissionQueue.Ticket t = ticket;
        if (t == null) {
            return -1;
        }
        ticket = null;
        return queue.leave(t, why, nowNanos);
    }
}
