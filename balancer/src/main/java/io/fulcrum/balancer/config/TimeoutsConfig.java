package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * @param connect connecting to a backend
 * @param response the client's whole wait, from its request complete to the response head, all tries
 *     together
 * @param clientIdle an idle client connection is closed after this
 * @param backendIdle an idle pooled backend connection is closed after this
 * @param drain how long in-flight requests may take to finish at shutdown
 */
public record TimeoutsConfig(Duration connect, Duration response, Duration clientIdle, Duration backendIdle, Duration drain) {
    public TimeoutsConfig {
        requireNonNull(connect, "connect");
        requireNonNull(response, "response");
        requireNonNull(clientIdle, "clientIdle");
        requireNonNull(backendIdle, "backendIdle");
        requireNonNull(drain, "drain");
        requirePositive(connect, "connect");
        requirePositive(response, "response");
        requirePositive(clientIdle, "clientIdle");
        requirePositive(backendIdle, "backendIdle");
        requirePositive(drain, "drain");
    }

    private static void requirePositive(Duration d, String name) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
    }
}
