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
 * @param tunnelIdle a tunnel (a connection switched to another protocol, such as a WebSocket) that
 *     carries nothing either way for this long is closed
 */
public record TimeoutsConfig(Duration connect, Duration response, Duration clientIdle, Duration backendIdle, Duration drain,
        Duration tunnelIdle) {
    public static final Duration DEFAULT_TUNNEL_IDLE = Duration.ofHours(1);

    /** Timeouts with the default tunnel-idle. */
    public TimeoutsConfig(Duration connect, Duration response, Duration clientIdle, Duration backendIdle, Duration drain) {
        this(connect, response, clientIdle, backendIdle, drain, DEFAULT_TUNNEL_IDLE);
    }

    /** Every field at its default. */
    public static final TimeoutsConfig DEFAULT = new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(30),
            Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(30), DEFAULT_TUNNEL_IDLE);

    public TimeoutsConfig {
        requireNonNull(tunnelIdle, "tunnelIdle");
        requirePositive(tunnelIdle, "tunnelIdle");
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
