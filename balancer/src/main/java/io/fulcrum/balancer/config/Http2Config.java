package io.fulcrum.balancer.config;

/**
 * HTTP/2 from clients: over TLS when the client offers {@code h2} (ALPN), and in cleartext with
 * prior knowledge on the cleartext port (the connection preface tells it from HTTP/1.1).
 *
 * @param enabled whether HTTP/2 is offered at all; off, every connection speaks HTTP/1.1
 * @param maxConcurrentStreams the streams one connection may have open at once
 */
public record Http2Config(boolean enabled, int maxConcurrentStreams) {
    public static final Http2Config DEFAULT = new Http2Config(true, 100);

    public Http2Config {
        if (maxConcurrentStreams < 1) {
            throw new IllegalArgumentException("maxConcurrentStreams: " + maxConcurrentStreams + " (expected: >= 1)");
        }
    }
}
