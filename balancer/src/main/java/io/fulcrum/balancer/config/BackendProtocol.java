package io.fulcrum.balancer.config;

/**
 * How a pool's backends are spoken to ({@code protocol}). Immutable.
 */
public enum BackendProtocol {
    /** HTTP/1.1 on pooled keep-alive connections, one request at a time per connection. */
    HTTP1("http1"),
    /** HTTP/2 in clear text with prior knowledge (RFC 9113 section 3.3): {@code http://} backends. */
    H2C("h2c"),
    /** HTTP/2 over TLS, agreed by ALPN: {@code https://} backends. */
    H2("h2"),
    /** Over TLS, whatever ALPN agrees ({@code h2} or {@code http/1.1}); HTTP/1.1 in clear text. */
    AUTO("auto");

    private final String word;

    BackendProtocol(String word) {
        this.word = word;
    }

    /** The word of the config file. */
    public String word() {
        return word;
    }

    /** The protocol named {@code word} in the config file. */
    public static BackendProtocol of(String word) {
        for (BackendProtocol p : values()) {
            if (p.word.equals(word)) {
                return p;
            }
        }
        throw new IllegalArgumentException("protocol: " + word + " (expected: http1, h2c, h2 or auto)");
    }

    /** Whether a request to such a backend may travel as an HTTP/2 stream. */
    public boolean mayMultiplex() {
        return this != HTTP1;
    }
}
