package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

/**
 * One backend of the pool.
 *
 * @param id unique, stable name; live counters survive a reload while the id stays the same
 * @param host host name or address from the URL
 * @param port port from the URL (80 when the URL names none)
 * @param region the backend's region (the balancer's own region when omitted)
 * @param weight relative share, at least 1
 * @param maxInFlight requests in flight at which the backend is never chosen, at least 1
 * @param tls whether the backend is reached over TLS ({@code https://} URL)
 * @param protocol how it is spoken to: its pool's {@code protocol}
 */
public record BackendConfig(String id, String host, int port, String region, int weight, int maxInFlight,
        boolean tls, BackendProtocol protocol) {
    /** A plain-HTTP backend. */
    public BackendConfig(String id, String host, int port, String region, int weight, int maxInFlight) {
        this(id, host, port, region, weight, maxInFlight, false);
    }

    /** A backend spoken to over HTTP/1.1. */
    public BackendConfig(String id, String host, int port, String region, int weight, int maxInFlight,
            boolean tls) {
        this(id, host, port, region, weight, maxInFlight, tls, BackendProtocol.HTTP1);
    }

    public BackendConfig {
        requireNonNull(id, "id");
        requireNonNull(protocol, "protocol");
        requireNonNull(host, "host");
        requireNonNull(region, "region");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
        }
        if (weight < 1) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: >= 1)");
        }
    }

    /** This backend spoken to over {@code next}. */
    public BackendConfig withProtocol(BackendProtocol next) {
        return next == protocol ? this : new BackendConfig(id, host, port, region, weight, maxInFlight, tls, next);
    }

    /** The backend's base URL, {@code http://host:port} or {@code https://host:port}. */
    public String url() {
        return (tls ? "https://" : "http://") + authority();
    }

    /** {@code host:port}, as a Host header names the backend (IPv6 in brackets). */
    public String authority() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
