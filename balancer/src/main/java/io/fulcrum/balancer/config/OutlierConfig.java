package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Passive outlier ejection.
 *
 * @param consecutiveFailures 5xx answers or connect/reset failures in a row that eject a backend
 * @param baseEjection ejection time, multiplied by the number of times the backend was ejected
 * @param maxEjection cap on one ejection's length
 * @param maxEjectedPercent never eject more than this share of the pool at once
 */
public record OutlierConfig(int consecutiveFailures, Duration baseEjection, Duration maxEjection, int maxEjectedPercent) {
    public OutlierConfig {
        requireNonNull(baseEjection, "baseEjection");
        requireNonNull(maxEjection, "maxEjection");
        if (consecutiveFailures < 1) {
            throw new IllegalArgumentException("consecutiveFailures: " + consecutiveFailures + " (expected: >= 1)");
        }
        if (baseEjection.isNegative()) {
            throw new IllegalArgumentException("baseEjection: " + baseEjection + " (expected: >= 0)");
        }
        if (maxEjection.compareTo(baseEjection) < 0) {
            throw new IllegalArgumentException("maxEjection: " + maxEjection + " (expected: >= baseEjection " + baseEjection + ")");
        }
        if (maxEjectedPercent < 0 || maxEjectedPercent > 100) {
            throw new IllegalArgumentException("maxEjectedPercent: " + maxEjectedPercent + " (expected: 0-100)");
        }
    }
}
