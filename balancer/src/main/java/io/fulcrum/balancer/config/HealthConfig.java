package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Active health checks: GET {@code path} on every backend each {@code interval}.
 *
 * @param path request path of the check, starting with {@code /}
 * @param interval time between checks of one backend (a little jitter is added)
 * @param timeout a check that has not answered by then fails
 * @param rise consecutive successes before a down backend is up again
 * @param fall consecutive failures before an up backend is down
 * @param enabled {@code false} turns active checks off: every backend counts as healthy and only
 *     passive outlier ejection judges it (like a server without {@code check} in HAProxy)
 * @param grpcService {@code null} for an HTTP check (GET {@code path}), else the service name a
 *     gRPC check ({@code grpc.health.v1.Health/Check}) asks about, {@code ""} for the whole server
 */
public record HealthConfig(String path, Duration interval, Duration timeout, int rise, int fall, boolean enabled,
        String grpcService) {

    /** Active checks on. */
    public HealthConfig(String path, Duration interval, Duration timeout, int rise, int fall) {
        this(path, interval, timeout, rise, fall, true);
    }

    /** An HTTP check. */
    public HealthConfig(String path, Duration interval, Duration timeout, int rise, int fall, boolean enabled) {
        this(path, interval, timeout, rise, fall, enabled, null);
    }

    /** Every field at its default: GET /health every 2s, 1s timeout, rise 2, fall 3. */
    public static final HealthConfig DEFAULT = new HealthConfig("/health", Duration.ofSeconds(2), Duration.ofSeconds(1),
            2, 3, true);

    /** Whether the check is gRPC's health checking protocol rather than an HTTP GET. */
    public boolean grpc() {
        return grpcService != null;
    }

    public HealthConfig {
        requireNonNull(path, "path");
        requireNonNull(interval, "interval");
        requireNonNull(timeout, "timeout");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path: " + path + " (expected: starting with /)");
        }
        DurationBounds.positive("interval", interval);
        DurationBounds.positive("timeout", timeout);
        if (rise < 1) {
            throw new IllegalArgumentException("rise: " + rise + " (expected: >= 1)");
        }
        if (fall < 1) {
            throw new IllegalArgumentException("fall: " + fall + " (expected: >= 1)");
        }
    }
}
