package io.fulcrum.balancer.exchange;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Caps the retries in progress that {@link RetryPolicy} puts under the budget (after timeouts and
 * 5xx while much of the pool fails: a brown-out), so that a failing pool is not hammered by a retry
 * storm (Envoy's retry budget, Finagle's RetryBudget).
 *
 * <p>Retries in progress may reach the larger of {@code budget-percent} of the requests in
 * progress and one backend's share of them (requests in progress ÷ backends, with at least two
 * backends), plus {@value #MIN_CONCURRENT_RETRIES}: so a quiet balancer still retries, and a backend
 * that dies holding a few more than its share (its count moves with each request that ends and
 * begins, and least-busy keeps sending to it until it is seen to stall) has every one of them
 * retried. In a brown-out retries add at most the larger of {@code budget-percent} and 1/N to the
 * load, and {@value #MIN_CONCURRENT_RETRIES} requests.
 *
 * <p>Thread-safe and lock-free.
 */
public final class RetryBudget {
    static final int MIN_CONCURRENT_RETRIES = 3;

    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger activeRetries = new AtomicInteger();
    private final LongAdder retries = new LongAdder();
    private final LongAdder refused = new LongAdder();

    /** A request starts; pair with {@link #requestEnded()}. */
    public void requestStarted() {
        activeRequests.incrementAndGet();
    }

    public void requestEnded() {
        activeRequests.decrementAndGet();
    }

    /**
     * The most retries in progress allowed now; see the class comment. 0 when the budget is 0%.
     *
     * @param percent {@code retry.budget-percent} in force
     * @param poolSize backends in the pool
     */
    int allowed(int percent, int poolSize) {
        if (percent == 0) {
            return 0;
        }
        long active = activeRequests.get();
        long byShare = active * percent / 100;
        long byPool = poolSize >= 2 ? (active + poolSize - 1) / poolSize : 0;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(byShare, byPool) + MIN_CONCURRENT_RETRIES);
    }

    /**
     * Takes a retry slot if the budget allows one now; a successful call must be paired with
     * {@link #retryEnded()}.
     *
     * @param percent {@code retry.budget-percent} in force
     * @param poolSize backends in the pool, which sizes the burst allowance
     */
    public boolean tryStartRetry(int percent, int poolSize) {
        int allowed = allowed(percent, poolSize);
        while (true) {
            int current = activeRetries.get();
            if (current >= allowed) {
                refused.increment();
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

    /** Retries since start-up, free ones included. */
    public long totalRetries() {
        return retries.sum();
    }

    /** Retries the budget refused since start-up. */
    public long refusedRetries() {
        return refused.sum();
    }

    public int activeRequests() {
        return activeRequests.get();
    }

    public int activeRetries() {
        return activeRetries.get();
    }
}
