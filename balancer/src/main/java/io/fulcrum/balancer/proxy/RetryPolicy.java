package io.fulcrum.balancer.proxy;

/**
 * DESIGN.md's retry rules as one pure function: whether a failed try may be followed by another,
 * and what that retry costs. Stateless; the exchange keeps the counts and the retry budget.
 *
 * <ul>
 *   <li>Nothing is retried once response bytes reached the client, and nothing at all with
 *       {@code retry.attempts: 0}.</li>
 *   <li>A try whose request never reached the backend (the connection was refused or timed out)
 *       is retried whatever the method, and the retry is <em>free</em>: it spends neither one of
 *       {@code retry.attempts} nor a retry-budget slot, since the backend did no work and the
 *       connect failure holds it down at once. A request makes at most as many such retries as
 *       there are backends.</li>
 *   <li>A try that reached the backend is retried only when the request is safe to repeat
 *       (idempotent method, or POST/PATCH with an Idempotency-Key) and its body is still held, at
 *       most {@code retry.attempts} times. Such a retry needs no budget slot when the backend lost
 *       the connection before answering (reset or closed: it died, and its work went with it);
 *       after a timeout or a 5xx it needs a slot of the retry budget, which keeps a brown-out from
 *       being multiplied.</li>
 * </ul>
 */
final class RetryPolicy {
    private RetryPolicy() {
    }

    /** What to do after a failed try. */
    enum Decision {
        /** Answer the client with the failure. */
        GIVE_UP,
        /** Try another backend; spends no attempt and no budget slot. */
        RETRY_FREE,
        /** Try another backend; spends one attempt but no budget slot. */
        RETRY_UNBUDGETED,
        /** Try another backend if the retry budget grants a slot; spends one attempt. */
        RETRY
    }

    /** What is known of a failed try, for {@link #decide}. */
    record Failure(
            /* Whether any byte of the request was written to the failed backend. */
            boolean reachedBackend,
            /* Whether the connection was lost before any response byte (refused, reset, closed). */
            boolean connectionLost) {
    }

    /**
     * @param failure the failed try
     * @param responseStarted whether part of a response already reached the client
     * @param repeatable the request may be sent again after a backend saw it (method and
     *     Idempotency-Key rules, and its body still held for replay)
     * @param retriesAfterSend retries already made after tries that reached a backend
     * @param attempts {@code retry.attempts}: the most such retries
     * @param unsentFailures tries of this request that failed before reaching a backend, this one
     *     included
     * @param poolSize backends in the pool
     */
    static Decision decide(Failure failure, boolean responseStarted, boolean repeatable, int retriesAfterSend,
            int attempts, int unsentFailures, int poolSize) {
        if (responseStarted || attempts == 0) {
            // attempts: 0 is the operator turning retries off, connect failures included.
            return Decision.GIVE_UP;
        }
        if (!failure.reachedBackend()) {
            return unsentFailures < poolSize ? Decision.RETRY_FREE : Decision.GIVE_UP;
        }
        if (!repeatable || retriesAfterSend >= attempts) {
            return Decision.GIVE_UP;
        }
        return failure.connectionLost() ? Decision.RETRY_UNBUDGETED : Decision.RETRY;
    }
}
