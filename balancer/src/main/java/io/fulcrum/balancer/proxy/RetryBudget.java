package io.fulcrum.balancer.proxy;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Caps retries at a share of the requests in flight, so that a failing pool is not hammered by a
 * retry storm (Envoy's retry budget, Finagle's RetryBudget). A small floor lets a quiet balancer
 * still retry. Thread-safe and lock-free.
 */
public final class RetryBudget {
    private static final int MIN_CONCURRENT_RETRIES = 3;

    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger activeRetries = new AtomicInteger();
    private final LongAdder retries = new LongAdder();
    private volatile int budgetPercent;

    public RetryBudget(int budgetPercent) {
        setBudgetPercent(budgetPercent);
    }

    public void setBudgetPercent(int budgetPercent) {
        if (budgetPercent < 0 || budgetPercent > 100) {
            throw new IllegalArgumentException("budgetPercent: " + budgetPercent + " (expected: 0-100)");
        }
        this.budgetPercent = budgetPercent;
    }

    /** A request starts; pair with {@link #requestEnded()}. */
    public void requestStarted() {
        activeRequests.incrementAndGet();
    }

    public void requestEnded() {
        activeRequests.decrementAndGet();
    }

    /**
     * Takes a retry slot if the budget allows one now; a successful call must be paired with
     * {@link #retryEnded()}.
     */
    public boolean tryStartRetry() {
        int allowed = Math.max(MIN_CONCURRENT_RETRIES, activeRequests.get() * budgetPercent / 100);
        if (budgetPercent == 0) {
            return false;
        }
        while (true) {
            int current = activeRetries.get();
            if (current >= allowed) {
                return false;
            }
            if (activeRetries.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    public void retryEnded() {
        activeRetries.decrementAndGet();
    }

    /** Counts one more try of a request on another backend. */
    public void recordRetry() {
        retries.increment();
    }

    /** Retries since start-up. */
    public long totalRetries() {
        return retries.sum();
    }

    public int activeRequests() {
        return activeRequests.get();
    }

    public int activeRetries() {
        return activeRetries.get();
    }
}
