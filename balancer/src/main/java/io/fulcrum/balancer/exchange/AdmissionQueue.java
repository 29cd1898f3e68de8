package io.fulcrum.balancer.exchange;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * The requests of one pool that found every backend at its max-in-flight and wait for a slot, in
 * arrival order: HAProxy's server queue with {@code timeout queue} and {@code maxqueue}, Envoy's
 * pending requests. It bounds a burst's cost to a short wait instead of a 503, and stays bounded
 * itself: at most the length its caller allows ({@code limits.max-queue}), each waiter for at most
 * its own deadline ({@code timeouts.queue}, enforced by the waiter's connection timer).
 *
 * <p>A slot is freed on whichever event loop ends a request; {@link #slotFreed()} then gives the
 * oldest waiter not yet given one a <em>turn</em>: its {@link Ticket#turn} runs on the waiter's own
 * event loop, where the request selects again as usual (any backend with room, near regions first).
 * A waiter that wins a slot leaves with {@link #won}; one that loses the race (another request took
 * the slot first) keeps its place at the front with {@link #lost} and waits for the next free slot.
 * Every request in flight ends, so each loss implies a later {@link #slotFreed()}; a free that finds
 * every waiter already on its turn is kept as a credit for the next waiter to arrive. A waiter that
 * leaves on its turn (its client went away, its wait ran out) passes the turn on.
 *
 * <p>Requests that arrive while anyone waits join the back of the queue instead of taking a freed
 * slot first ({@link #isEmpty()}), so the oldest are served first, as in HAProxy.
 *
 * <p>Thread-safe. The common case costs one volatile read: with nobody waiting, {@link #slotFreed()}
 * and {@link #isEmpty()} take no lock. Changes of the queue itself (a request queued, served or
 * gone) take a short lock that is never held across a call out; turns are handed to event loops
 * after it is released. Memory is bounded by the queue's length: one {@link Ticket} per waiter.
 */
public final class AdmissionQueue {
    /** Why a waiter left without a slot, for the counters. */
    enum Exit {
        /** Its wait ran out ({@code timeouts.queue} or the client's whole response deadline). */
        TIMEOUT,
        /** Its client went away, or its request ended otherwise (a 400 or 413 on its body). */
        CANCELLED
    }

    /**
     * One waiting request: a node of the queue's list. The links and the flags are guarded by the
     * queue's lock; the rest is immutable.
     */
    static final class Ticket {
        /** The waiter's event loop: its turn runs there. */
        final Executor loop;
        /** Selects again for the waiter; runs on {@link #loop}. */
        final Runnable turn;
        final long enqueuedNanos;
        private final long seq;
        private Ticket prev;
        private Ticket next;
        /** A turn was handed to the waiter and has not ended in {@link #won} or {@link #lost}. */
        private boolean onTurn;
        private boolean queued = true;

        private Ticket(Executor loop, Runnable turn, long enqueuedNanos, long seq) {
            this.loop = loop;
            this.turn = turn;
            this.enqueuedNanos = enqueuedNanos;
            this.seq = seq;
        }

        @Override
        public String toString() {
            return "ticket " + seq + (onTurn ? " (on its turn)" : "");
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private Ticket head;
    private Ticket tail;
    /**
     * The first waiter that is not on its turn, or {@code null} when every waiter is; every waiter
     * before it is on its turn. Saves walking the turns already handed out.
     */
    private Ticket cursor;
    private long seq;
    /** Slots freed while every waiter was on its turn, handed to the next waiters to arrive. */
    private int credits;
    /** Written under the lock, read without it. */
    private volatile int size;
    private final LongAdder queued = new LongAdder();
    private final LongAdder timedOut = new LongAdder();
    private final LongAdder refusedFull = new LongAdder();
    private volatile LongConsumer waits = nanos -> { };

    /** Waiters now. */
    public int length() {
        return size;
    }

    /** Whether nobody waits; one volatile read. */
    boolean isEmpty() {
        return size == 0;
    }

    /** Requests that have waited here so far, whatever became of them. */
    public long queued() {
        return queued.sum();
    }

    /** Waiters whose wait ran out so far (each got a 503). */
    public long timedOut() {
        return timedOut.sum();
    }

    /** Requests refused so far because the queue was at its length (each got a 503). */
    public long refusedFull() {
        return refusedFull.sum();
    }

    /** Where every waiter's time in the queue is reported (nanoseconds), when it leaves it. */
    public void recordWaitsTo(LongConsumer recorder) {
        this.waits = requireNonNull(recorder, "recorder");
    }

    /**
     * Queues a request at the back, or returns {@code null} when {@code maxLength} waiters are
     * queued already (the caller answers 503 and this counts it). The first waiter of an empty queue
     * gets a turn at once: a slot freed just before it was queued found nobody to give it to.
     *
     * @param loop the waiter's event loop, where its turns run
     * @param turn what selects again for the waiter
     */
    Ticket offer(int maxLength, Executor loop, Runnable turn, long nowNanos) {
        requireNonNull(loop, "loop");
        requireNonNull(turn, "turn");
        Ticket t;
        Ticket turnNow = null;
        lock.lock();
        try {
            if (size >= maxLength) {
                refusedFull.increment();
                return null;
            }
            t = new Ticket(loop, turn, nowNanos, seq++);
            if (tail == null) {
                head = t;
            } else {
                tail.next = t;
                t.prev = tail;
            }
            tail = t;
            if (cursor == null) {
                cursor = t;
            }
            size++;
            if (size == 1 || credits > 0) {
                if (credits > 0) {
                    credits--;
                }
                turnNow = nextTurn();
            }
        } finally {
            lock.unlock();
        }
        queued.increment();
        if (turnNow != null) {
            hand(turnNow);
        }
        return t;
    }

    /** A slot of this pool's backends was freed: the oldest waiter not on its turn gets one. */
    void slotFreed() {
        if (size == 0) {
            return;
        }
        slotsFreed(1);
    }

    /**
     * {@code n} slots may have become free at once (a new snapshot: backends added, back up,
     * undrained or given a larger max-in-flight): that many waiters get a turn.
     */
    void slotsFreed(int n) {
        if (size == 0 || n <= 0) {
            return;
        }
        Ticket one = null;
        List<Ticket> more = null;
        lock.lock();
        try {
            for (int i = 0; i < n; i++) {
                Ticket t = nextTurn();
                if (t == null) {
                    // Every waiter is on its turn; one of them may lose to a request that is not queued.
                    credits = Math.min(credits + n - i, Math.max(size, 1));
                    break;
                }
                if (one == null) {
                    one = t;
                } else {
                    if (more == null) {
                        more = new ArrayList<>();
                    }
                    more.add(t);
                }
            }
        } finally {
            lock.unlock();
        }
        if (one != null) {
            hand(one);
        }
        if (more != null) {
            more.forEach(AdmissionQueue::hand);
        }
    }

    /**
     * The waiter selected on its turn and got a slot: it leaves the queue. Its wait is reported.
     *
     * @return the time it waited
     */
    long won(Ticket t, long nowNanos) {
        lock.lock();
        try {
            if (!t.queued) {
                return nowNanos - t.enqueuedNanos;
            }
            t.onTurn = false;
            unlink(t);
        } finally {
            lock.unlock();
        }
        long waited = nowNanos - t.enqueuedNanos;
        waits.accept(waited);
        return waited;
    }

    /**
     * The waiter found no room on its turn: it keeps its place (at the front, being the oldest not
     * on its turn) and waits for the next free slot.
     */
    void lost(Ticket t) {
        lock.lock();
        try {
            if (!t.queued || !t.onTurn) {
                return;
            }
            t.onTurn = false;
            if (cursor == null || t.seq < cursor.seq) {
                cursor = t;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The waiter leaves without a slot. A turn it was given passes to the next waiter, so a freed
     * slot is never lost with it. Its wait is reported; a timeout is counted.
     *
     * @return the time it waited, or -1 when it had left already
     */
    long leave(Ticket t, Exit why, long nowNanos) {
        Ticket passed = null;
        lock.lock();
        try {
            if (!t.queued) {
                return -1;
            }
            boolean hadTurn = t.onTurn;
            t.onTurn = false;
            unlink(t);
            if (hadTurn) {
                passed = nextTurn();
                if (passed == null && size > 0) {
                    credits = Math.min(credits + 1, size);
                }
            }
        } finally {
            lock.unlock();
        }
        if (passed != null) {
            hand(passed);
        }
        if (why == Exit.TIMEOUT) {
            timedOut.increment();
        }
        long waited = nowNanos - t.enqueuedNanos;
        waits.accept(waited);
        return waited;
    }

    /** Marks the first waiter not on its turn as on it and returns it, or {@code null}. Under the lock. */
    private Ticket nextTurn() {
        Ticket t = cursor;
        while (t != null && t.onTurn) {
            t = t.next;
        }
        if (t == null) {
            cursor = null;
            return null;
        }
        t.onTurn = true;
        Ticket after = t.next;
        while (after != null && after.onTurn) {
            after = after.next;
        }
        cursor = after;
        return t;
    }

    /** Removes a ticket from the list. Under the lock. */
    private void unlink(Ticket t) {
        if (cursor == t) {
            Ticket after = t.next;
            while (after != null && after.onTurn) {
                after = after.next;
            }
            cursor = after;
        }
        if (t.prev == null) {
            head = t.next;
        } else {
            t.prev.next = t.next;
        }
        if (t.next == null) {
            tail = t.prev;
        } else {
            t.next.prev = t.prev;
        }
        t.prev = null;
        t.next = null;
        t.queued = false;
        size--;
        if (size == 0) {
            credits = 0;
        }
    }

    /** Runs a turn on its waiter's loop; outside the lock. */
    private static void hand(Ticket t) {
        try {
            t.loop.execute(t.turn);
        } catch (RejectedExecutionException e) {
            // The loop is shutting down with its connections; the waiter's connection goes with it.
        }
    }

    @Override
    public String toString() {
        return "admission queue (" + size + " waiting)";
    }
}
