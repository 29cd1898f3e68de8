package io.fulcrum.balancer.exchange;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Every way a proxied request can fail, each with the status the client gets and the text of the
 * JSON error body. Once response bytes have reached the client no status can be sent any more; the
 * only remedy then is to close the connection.
 */
public enum UpstreamFailure {
    /** No backend is routable, or every candidate is at its max-in-flight and there is no queue. */
    NO_BACKEND(HttpResponseStatus.SERVICE_UNAVAILABLE, "no backend available"),
    /** Every candidate stayed at its max-in-flight for the whole queue wait ({@code timeouts.queue}). */
    QUEUE_TIMEOUT(HttpResponseStatus.SERVICE_UNAVAILABLE, "queue timeout"),
    /** Every candidate is at its max-in-flight and the pool's queue is at {@code limits.max-queue}. */
    QUEUE_FULL(HttpResponseStatus.SERVICE_UNAVAILABLE, "queue full"),
    /** The connection to the backend could not be made. */
    CONNECT_FAILED(HttpResponseStatus.BAD_GATEWAY, "backend connection failed"),
    /** The backend closed or reset the connection before the response headers. */
    RESET_BEFORE_RESPONSE(HttpResponseStatus.BAD_GATEWAY, "backend closed the connection"),
    /** No response headers within the response timeout. */
    RESPONSE_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, "backend response timed out"),
    /** The backend's response could not be parsed. */
    MALFORMED_RESPONSE(HttpResponseStatus.BAD_GATEWAY, "malformed backend response"),
    /** The response head announced a body past {@code max-response-bytes}. */
    RESPONSE_TOO_LARGE(HttpResponseStatus.BAD_GATEWAY, "backend response too large");

    private final HttpResponseStatus status;
    private final String message;

    UpstreamFailure(HttpResponseStatus status, String message) {
        this.status = status;
        this.message = message;
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String message() {
        return message;
    }

    /**
     * Whether the answer carries {@code Retry-After} (RFC 9110 section 10.2.3): the balancer had
     * no room for the request now, which a client may try again shortly.
     */
    public boolean retryAfter() {
        return this == NO_BACKEND || this == QUEUE_TIMEOUT || this == QUEUE_FULL;
    }
}
