package io.fulcrum.balancer.exchange;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

/**
 * DESIGN.md's retry rules as one pure function: whether a failed try may be followed by another,
 * and what that retry costs. Stateless; the exchange keeps the counts and the retry budget.
 *
 * <ul>
 *   <li>Nothing is retried once response bytes reached the client, and nothing at all with
 *       {@code retry.attempts: 0}.</li>
 *   <li>A try whose connection was lost before any response byte (refused, timed out while
 *       connecting, reset or closed) says the backend is dead or dying: its work went with it. The
 *       request is retried on another backend, whatever its method when it never reached the
 *       backend, and only when it is safe to repeat (idempotent method, or POST/PATCH with an
 *       Idempotency-Key, body still held) when it did. Such a retry is <em>free</em>: it spends
 *       neither one of {@code retry.attempts} nor a retry-budget slot, so a region that dies at
 *       once does not use up the attempts before the next region is reached. A request makes at
 *       most one such retry per backend of the pool, each at another one when there is one
 *       (nginx's {@code proxy_next_upstream error} with its default of every server), plus one, so
 *       that a pool of one backend gets a new connection after a stale idle one.</li>
 *   <li>A try that timed out, got a 502/503/504 or a malformed response is retried only when the
 *       request is safe to repeat, at most {@code retry.attempts} times, and with a slot of the
 *       retry budget, which keeps a brown-out from being multiplied. A timeout at a backend that
 *       answered nothing at all while the try waited is no brown-out but a hung backend: its
 *       retry needs no budget slot; nor does a 5xx from a backend whose peers fail little (one
 *       backend failing while the rest of the pool is well is no brown-out, and least-busy's error
 *       term already keeps that backend's share, and so its retries, small).</li>
 * </ul>
 */
final class RetryPolicy {
    private RetryPolicy() {
    }

    /**
     * Whether {@code request} may be sent again after a backend saw it: GET, HEAD, PUT, DELETE,
     * OPTIONS, TRACE, and POST/PATCH carrying an Idempotency-Key.
     */
    static boolean repeatable(HttpRequest request) {
        HttpMethod m = request.method();
        if (m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.PUT || m == HttpMethod.DELETE
                || m == HttpMethod.OPTIONS || m == HttpMethod.TRACE) {
            return true;
        }
        return request.headers().contains("idempotency-key");
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
            /* Whether the connection was lost before any response byte (refused, reset, closed),
               rather than the backend answering late, with an error or with garbage. */
            boolean connectionLost,
            /* A timeout at a backend that answered nothing at all since this try was sent. */
            boolean backendStalled,
            /* A 5xx from a backend whose peers fail little: that backend's failure, not a brown-out. */
            boolean failingAlone) {
        Failure(boolean reachedBackend, boolean connectionLost, boolean backendStalled) {
            this(reachedBackend, connectionLost, backendStalled, false);
        }
    }

    /**
     * @param failure the failed try
     * @param responseStarted whether part of a response already reached the client
     * @param repeatable the request may be sent again after a backend saw it (method and
     *     Idempotency-Key rules, and its body still held for replay)
     * @param attemptsSpent retries so far that spent {@code retry.attempts} (free ones do not)
     * @param attempts {@code retry.attempts}: the most such retries
     * @param lostConnections tries of this request whose connection was lost before any response
     *     byte, this one included
     * @param poolSize backends in the pool
     */
    static Decision decide(Failure failure, boolean responseStarted, boolean repeatable, int attemptsSpent,
            int attempts, int lostConnections, int poolSize) {
        if (responseStarted || attempts == 0) {
            // attempts: 0 is the operator turning retries off, connect failures included.
            return Decision.GIVE_UP;
        }
        if (failure.connectionLost()) {
            if (failure.reachedBackend() && !repeatable) {
                return Decision.GIVE_UP;
            }
            // One more than the pool: a pool of one still gets a new connection after a stale one.
            return lostConnections <= poolSize ? Decision.RETRY_FREE : Decision.GIVE_UP;
        }
        if (!repeatable || attemptsSpent >= attempts) {
            return Decision.GIVE_UP;
        }
        return failure.backendStalled() || failure.failingAlone() ? Decision.RETRY_UNBUDGETED : Decision.RETRY;
    }
}
