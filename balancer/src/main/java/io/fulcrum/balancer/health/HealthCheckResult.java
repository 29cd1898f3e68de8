package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

/**
 * What one active health check found. Immutable.
 *
 * @param healthy whether the backend passed (a 2xx answer within the timeout)
 * @param status the HTTP status of the answer, or 0 when there was none (connect failure, timeout)
 * @param load the load the backend reported in its JSON body, in [0, 1], or {@link Double#NaN}
 *     when the body carried none
 * @param detail a short description for the log: the status line or the failure
 */
public record HealthCheckResult(boolean healthy, int status, double load, String detail) {
    public HealthCheckResult {
        requireNonNull(detail, "detail");
    }

    /** A check that got no usable answer (connect failure, timeout, broken response). */
    public static HealthCheckResult failed(String detail) {
        return new HealthCheckResult(false, 0, Double.NaN, detail);
    }

    /** Whether the answer carried a load figure. */
    public boolean hasLoad() {
        return !Double.isNaN(load);
    }
}
