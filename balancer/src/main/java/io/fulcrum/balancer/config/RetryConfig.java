package io.fulcrum.balancer.config;

import java.time.Duration;

/**
 * Retries of failed requests on another backend.
 *
 * @param attempts extra tries after the first
 * @param budgetPercent retries never exceed this share of live requests
 * @param replayBodyBytes request bodies up to this size are kept so they can be replayed
 * @param perTryTimeout the wait of one try for its response head, inside {@code timeouts.response};
 *     {@code null} means tries share the whole response timeout with no limit of their own
 */
public record RetryConfig(int attempts, int budgetPercent, int replayBodyBytes, Duration perTryTimeout) {
    /** Every field at its default: 2 extra tries, 20% budget, 64 KiB replayed, no per-try timeout. */
    public static final RetryConfig DEFAULT = new RetryConfig(2, 20, 65536, null);

    public RetryConfig {
        if (attempts < 0) {
            throw new IllegalArgumentException("attempts: " + attempts + " (expected: >= 0)");
        }
        if (budgetPercent < 0 || budgetPercent > 100) {
            throw new IllegalArgumentException("budgetPercent: " + budgetPercent + " (expected: 0-100)");
        }
        if (replayBodyBytes < 0) {
            throw new IllegalArgumentException("replayBodyBytes: " + replayBodyBytes + " (expected: >= 0)");
        }
        if (perTryTimeout != null && (perTryTimeout.isNegative() || perTryTimeout.isZero())) {
            throw new IllegalArgumentException("perTryTimeout: " + perTryTimeout + " (expected: > 0 or null)");
        }
    }
}
