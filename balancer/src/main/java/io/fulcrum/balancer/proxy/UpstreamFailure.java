package io.fulcrum.balancer.proxy;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Every way a proxied request can fail, each with the status the client gets and the text of the
 * JSON error body. Once response bytes have reached the client no status can be sent any more; the
 * only remedy then is to close the connection.
 */
public enum UpstreamFailure {
    /** No backend is routable, or every candidate is at its max-in-flight. */
    NO_BACKEND(HttpResponseStatus.SERVICE_UNAVAILABLE, "no backend available"),
    /** The connection to the backend could not be made. */
    CONNECT_FAILED(HttpResponseStatus.BAD_GATEWAY, "backend connection failed"),
    /** The backend closed or reset the connection before the response headers. */
    RESET_BEFORE_RESPONSE(HttpResponseStatus.BAD_GATEWAY, "backend closed the connection"),
    /** No response headers within the response timeout. */
    RESPONSE_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, "backend response timed out"),
    /** The backend's response could not be parsed. */
    MALFORMED_RESPONSE(HttpResponseStatus.BAD_GATEWAY, "malformed backend response");

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
}
