package io.fulcrum.node.config;

import static java.util.Objects.requireNonNull;

/**
 * Where the node accepts HTTP traffic. Port 0 asks the operating system for a free port (tests).
 *
 * <p>Immutable and thread-safe.
 */
public record NodeListenConfig(String host, int port) {
    /** Validates the address. */
    public NodeListenConfig {
        requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
    }

    /** Returns a copy listening on {@code newPort}. */
    public NodeListenConfig withPort(int newPort) {
        return new NodeListenConfig(host, newPort);
    }
}
