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
 * @param holdDown how long a connect failure keeps a backend out of selection; doubles with each
 *     further connect failure in a row; zero turns hold-down off
 * @param maxHoldDown cap on one hold-down
 * @param failureRate a backend whose recent failure rate is at least this is ejected after
 *     {@code consecutiveFailures} in a row; below it, the run must also be one its rate makes
 *     improbable, since least-busy already lowers its share (see {@code OutlierDetector})
 */
public record OutlierConfig(int consecutiveFailures, Duration baseEjection, Duration maxEjection, int maxEjectedPercent,
        Duration holdDown, Duration maxHoldDown, double failureRate) {
    public static final Duration DEFAULT_HOLD_DOWN = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX_HOLD_DOWN = Duration.ofSeconds(30);
    public static final double DEFAULT_FAILURE_RATE = 0.8;

    /** Every field at its default. */
    public static final OutlierConfig DEFAULT = new OutlierConfig(5, Duration.ofSeconds(10), Duration.ofSeconds(300), 50,
            DEFAULT_HOLD_DOWN, DEFAULT_MAX_HOLD_DOWN, DEFAULT_FAILURE_RATE);

    public OutlierConfig {
        requireNonNull(baseEjection, "baseEjection");
        requireNonNull(maxEjection, "maxEjection");
        requireNonNull(holdDown, "holdDown");
        requireNonNull(maxHoldDown, "maxHoldDown");
        DurationBounds.notNegative("holdDown", holdDown);
        if (maxHoldDown.compareTo(holdDown) < 0) {
            throw new IllegalArgumentException(
                    "maxHoldDown: " + maxHoldDown + " (expected: >= holdDown " + holdDown + ")");
        }
        if (consecutiveFailures < 1) {
            throw new IllegalArgumentException("consecutiveFailures: " + consecutiveFailures + " (expected: >= 1)");
        }
        DurationBounds.notNegative("baseEjection", baseEjection);
        if (maxEjection.compareTo(baseEjection) < 0) {
            throw new IllegalArgumentException("maxEjection: " + maxEjection + " (expected: >= baseEjection " + baseEjection + ")");
        }
        if (maxEjectedPercent < 0 || maxEjectedPercent > 100) {
            throw new IllegalArgumentException("maxEjectedPercent: " + maxEjectedPercent + " (expected: 0-100)");
        }
        if (!(failureRate >= 0 && failureRate <= 1)) {
            throw new IllegalArgumentException("failureRate: " + failureRate + " (expected: 0-1)");
        }
    }

    /** With the default failure rate (0.8). */
    public OutlierConfig(int consecutiveFailures, Duration baseEjection, Duration maxEjection, int maxEjectedPercent,
            Duration holdDown, Duration maxHoldDown) {
        this(consecutiveFailures, baseEjection, maxEjection, maxEjectedPercent, holdDown, maxHoldDown,
                DEFAULT_FAILURE_RATE);
    }

    /** With the default hold-down (1s, at most 30s). */
    public OutlierConfig(int consecutiveFailures, Duration baseEjection, Duration maxEjection,
            int maxEjectedPercent) {
        this(consecutiveFailures, baseEjection, maxEjection, maxEjectedPercent, DEFAULT_HOLD_DOWN,
                DEFAULT_MAX_HOLD_DOWN);
    }
}
