package io.fulcrum.balancer.proxy;

/**
 * DESIGN.md's retry rules as one pure function: whether a failed try may be followed by another,
 * and what that retry costs. Stateless; the exchange keeps the counts and the retry budget.
 *
 * <ul>
 *   <li>Nothing can be retried once response bytes reached the client.</li>
 *   <li>A try whose request never reached the backend (the connection was refused or timed out)
 *       is retried whatever the method. Such a retry is <em>free</em>: it takes neither one of
 *       {@code retry.attempts} nor a retry-budget slot, since the failed backend did no work and
 *       the connect failure holds it down at once, so the next try goes elsewhere. Free retries
 *       are bounded by the pool: a request makes at most as many of them as there are backends.
 *       {@code retry.attempts: 0} turns every retry off, these included.</li>
 *   <li>A try that reached the backend (reset, timeout, 502/503/504) is retried only when the
 *       request is safe to repeat (idempotent method, or POST/PATCH with an Idempotency-Key) and
 *       its body is still held, at most {@code retry.attempts} times, and only when the retry
 *       budget grants a slot.</li>
 * </ul>
 */
final class RetryPolicy {
    private RetryPolicy() {
    }

    /** What to do after a failed try. */
    enum Decision {
        /** Answer the client with the failure. */
        GIVE_UP,
        /** Try another backend without spending an attempt or a budget slot. */
        RETRY_FREE,
        /** Try another backend if the retry budget grants a slot; spends one attempt. */
        RETRY
    }

    /**
     * @param reachedBackend whether any byte of the request was written to the failed backend
     * @param responseStarted whether part of a response already reached the client
     * @param repeatable the request may be sent again after a backend saw it (method and
     *     Idempotency-Key rules, and its body still held for replay)
     * @param retriesAfterSend retries already made after tries that reached a backend
     * @param attempts {@code retry.attempts}: the most such retries
     * @param unsentFailures tries of this request that failed before reaching a backend, this one
     *     included
     * @param poolSize backends in the pool
     */
    static Decision decide(boolean reachedBackend, boolean responseStarted, boolean repeatable, int retriesAfterSend,
            int attempts, int unsentFailures, int poolSize) {
        if (responseStarted || attempts == 0) {
            // attempts: 0 is the operator turning retries off, connect failures included.
            return Decision.GIVE_UP;
        }
        if (!reachedBackend) {
            return unsentFailures < poolSize ? Decision.RETRY_FREE : Decision.GIVE_UP;
        }
        return repeatable && retriesAfterSend < attempts ? Decision.RETRY : Decision.GIVE_UP;
    }
}
