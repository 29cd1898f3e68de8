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
 * @param requestHead a request head (HTTP/1.1) or header block (HTTP/2) must be complete this long
 *     after its first byte, and a connection's first one this long after the connection was
 *     accepted; past it, 408 (or GOAWAY) and close
 * @param queue how long a request that finds every backend of its pool at max-in-flight waits for a
 *     free slot before its 503; zero answers the 503 at once (no queue)
 */
public record TimeoutsConfig(Duration connect, Duration response, Duration clientIdle, Duration backendIdle, Duration drain,
        Duration tunnelIdle, Duration requestHead, Duration queue) {
    public static final Duration DEFAULT_TUNNEL_IDLE = Duration.ofHours(1);
    /**
     * HAProxy's documentation suggests {@code timeout http-request 10s}; Apache's mod_reqtimeout
     * allows 20 s at most by default. A client on a slow mobile link sends a few hundred header
     * bytes in well under a second, so 10 s spares every real client and bounds what a slow one
     * (Slowloris) can hold.
     */
    public static final Duration DEFAULT_REQUEST_HEAD = Duration.ofSeconds(10);
    /**
     * The default queue wait: as long as the default connect timeout, which is what HAProxy's
     * {@code timeout queue} defaults to. A burst that the pool drains within a second is served;
     * a pool that stays full past it is overloaded, and its clients are better told so
     * ({@code Retry-After: 1}) than held.
     */
    public static final Duration DEFAULT_QUEUE = Duration.ofSeconds(1);

    /** Timeouts with the default tunnel-idle, request-head and queue wait. */
    public TimeoutsConfig(Duration connect, Duration response, Duration clientIdle, Duration backendIdle, Duration drain) {
        this(connect, response, clientIdle, backendIdle, drain, DEFAULT_TUNNEL_IDLE);
    }

    /** Timeouts with the default request-head and queue wait. */
    public TimeoutsConfig(Duration connect, Duration response, Duration clientIdle, Duration backendIdle, Duration drain,
            Duration tunnelIdle) {
        this(connect, response, clientIdle, backendIdle, drain, tunnelIdle, DEFAULT_REQUEST_HEAD);
    }

    /** Timeouts with the default queue wait. */
    public TimeoutsConfig(Duration connect, Duration response, Duration clientIdle, Duration backendIdle, Duration drain,
            Duration tunnelIdle, Duration requestHead) {
        this(connect, response, clientIdle, backendIdle, drain, tunnelIdle, requestHead, DEFAULT_QUEUE);
    }

    /** Every field at its default. */
    public static final TimeoutsConfig DEFAULT = new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(30),
            Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(30), DEFAULT_TUNNEL_IDLE,
            DEFAULT_REQUEST_HEAD, DEFAULT_QUEUE);

    public TimeoutsConfig {
        requireNonNull(requestHead, "requestHead");
        DurationBounds.positive("requestHead", requestHead);
        requireNonNull(queue, "queue");
        DurationBounds.notNegative("queue", queue);
        requireNonNull(tunnelIdle, "tunnelIdle");
        DurationBounds.positive("tunnelIdle", tunnelIdle);
        requireNonNull(connect, "connect");
        requireNonNull(response, "response");
        requireNonNull(clientIdle, "clientIdle");
        requireNonNull(backendIdle, "backendIdle");
        requireNonNull(drain, "drain");
        DurationBounds.positive("connect", connect);
        DurationBounds.positive("response", response);
        DurationBounds.positive("clientIdle", clientIdle);
        DurationBounds.positive("backendIdle", backendIdle);
        DurationBounds.positive("drain", drain);
    }
}
