package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * A host and port to bind. Port 0 binds an ephemeral port (useful in tests).
 */
public record ListenConfig(String host, int port) {
    public ListenConfig {
        requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
    }
}
