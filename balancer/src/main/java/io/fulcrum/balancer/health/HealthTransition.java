package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

/**
 * A backend's health flag flipped because the rise or fall threshold was reached. Immutable.
 *
 * @param backendId the backend's id
 * @param healthy the new state: {@code true} when the backend came up, {@code false} when it went down
 * @param consecutive the checks in a row that caused the flip
 * @param detail the last check's {@link HealthCheckResult#detail()}
 */
public record HealthTransition(String backendId, boolean healthy, int consecutive, String detail) {
    public HealthTransition {
        requireNonNull(backendId, "backendId");
        requireNonNull(detail, "detail");
    }
}
