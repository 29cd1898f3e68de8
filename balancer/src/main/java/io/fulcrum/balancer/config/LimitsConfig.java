package io.fulcrum.balancer.config;

/**
 * Request size and connection limits. Immutable and thread-safe.
 *
 * @param maxHeaderBytes request headers larger than this get 431
 * @param maxUriBytes request lines longer than this get 414
 * @param maxBodyBytes request bodies larger than this get 413
 * @param maxConnections client connections past this are closed at once
 */
public record LimitsConfig(int maxHeaderBytes, int maxUriBytes, long maxBodyBytes, int maxConnections) {
    /*
     * Only invariants are checked here; the loader applies the configurable ranges (1024..1048576
     * header bytes, 256.. URI bytes) so that tests may build small limits directly.
     */
    public LimitsConfig {
        if (maxHeaderBytes < 1) {
            throw new IllegalArgumentException("maxHeaderBytes: " + maxHeaderBytes + " (expected: >= 1)");
        }
        if (maxUriBytes < 1) {
            throw new IllegalArgumentException("maxUriBytes: " + maxUriBytes + " (expected: >= 1)");
        }
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes: " + maxBodyBytes + " (expected: >= 0)");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections: " + maxConnections + " (expected: >= 1)");
        }
    }
}
