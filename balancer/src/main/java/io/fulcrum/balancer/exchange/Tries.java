package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The tries of one exchange: the backends tried so far (a retry avoids them), how many retries of
 * each kind were made, the retry-budget slot the request holds, and each ended try for the access
 * log. Applies {@link RetryPolicy}
 * and the {@link RetryBudget} to decide whether a failed try may be followed by another.
 *
 * <p>Not thread safe: confined to the client connection's event loop.
 */
final class Tries {
    private final RequestInfo routing;
    private List<Backend> tried = List.of();
    private int count;
    /** Retries that spend {@code retry.attempts}: after timeouts, 5xx and malformed answers. */
    private int attemptsSpent;
    /** Tries whose connection was lost before any response byte. */
    private int lostConnections;
    private boolean holdingSlot;
    /** The slot held was taken by {@link #mayHedge} (not by a retry). */
    private boolean slotForHedge;
    /** The tries that ended, for the access log (allocated at the first try's end). */
    private List<RequestRecord.Try> log;

    /** @param routing the client's routing view (its region), before any try */
    Tries(RequestInfo routing) {
        this.routing = routing;
    }

    /** What selection should know for the next try: the client's region and the backends tried. */
    RequestInfo routing() {
        return tried.isEmpty() ? routing : routing.withExcluded(tried);
    }

    /** A try starts. */
    void started() {
        count++;
    }

    /** A try ended ({@link UpstreamTry#end}); the access log lists it. */
    void ended(RequestRecord.Try ended) {
        if (log == null) {
            log = new ArrayList<>(2);
        }
        log.add(ended);
    }

    /** The tries that ended, in order, or {@code null} when none did. */
    List<RequestRecord.Try> log() {
        return log;
    }

    /** Tries made so far, the current one included. */
    int count() {
        return count;
    }

    /**
     * Decides on another try after a failed one and takes a retry-budget slot when the retry needs
     * one (a request keeps its slot for its later retries). Returns {@link RetryPolicy.Decision#GIVE_UP}
     * when the budget refuses.
     *
     * @param responseStarted whether part of a response already reached the client
     * @param repeatable whether the request may be sent again after a backend saw it
     * @param poolSize backends in the pool
     */
    RetryPolicy.Decision decide(RetryPolicy.Failure failure, boolean responseStarted, boolean repeatable,
            ProxySettings settings, int poolSize, RetryBudget budget) {
        if (failure.connectionLost()) {
            lostConnections++;
        }
        RetryPolicy.Decision decision = RetryPolicy.decide(failure, responseStarted, repeatable, attemptsSpent,
                settings.retryAttempts(), lostConnections, poolSize);
        if (decision == RetryPolicy.Decision.RETRY && !holdingSlot) {
            holdingSlot = budget.tryStartRetry(settings.retryBudgetPercent(), poolSize);
            if (!holdingSlot) {
                return RetryPolicy.Decision.GIVE_UP;
            }
        }
        return decision;
    }

    /**
     * Whether a hedge's second try may start beside the current one: it spends one of
     * {@code retry.attempts} and needs a retry-budget slot, taken here and kept, like a retry's,
     * until the exchange ends. Start it with {@link #retrying}, which makes it avoid the first
     * try's backend.
     */
    boolean mayHedge(ProxySettings settings, int poolSize, RetryBudget budget) {
        if (attemptsSpent >= settings.retryAttempts()) {
            return false;
        }
        if (!holdingSlot) {
            holdingSlot = budget.tryStartRetry(settings.retryBudgetPercent(), poolSize);
            slotForHedge = holdingSlot;
        }
        return holdingSlot;
    }

    /**
     * The hedge that {@link #mayHedge} and {@link #retrying} allowed found no backend: the attempt,
     * the backend marked tried and a slot taken for it are given back, so a later retry of the first
     * try still has them.
     */
    void hedgeRefused(RetryBudget budget) {
        tried.remove(tried.size() - 1);
        attemptsSpent--;
        if (slotForHedge) {
            slotForHedge = false;
            holdingSlot = false;
            budget.retryEnded();
        }
    }

    /** A retry after the try at {@code failed} starts, as {@link #decide} allowed. */
    void retrying(Backend failed, RetryPolicy.Decision decision) {
        if (tried.isEmpty()) {
            tried = new ArrayList<>(4);
        }
        if (failed != null) {
            tried.add(failed);
        }
        if (decision != RetryPolicy.Decision.RETRY_FREE) {
            attemptsSpent++;
        }
    }

    /** The exchange ended: gives back the retry-budget slot, if it holds one. */
    void release(RetryBudget budget) {
        if (holdingSlot) {
            holdingSlot = false;
            budget.retryEnded();
        }
    }
}
