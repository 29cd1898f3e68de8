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
 */
public record HealthConfig(String path, Duration interval, Duration timeout, int rise, int fall) {
    public HealthConfig {
        requireNonNull(path, "path");
        requireNonNull(interval, "interval");
        requireNonNull(timeout, "timeout");
    }
}
