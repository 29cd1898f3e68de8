package io.fulcrum.node.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Every way a request can fail, each with its status and the stable {@code error} code of the JSON
 * body {@code {"error":"...","detail":"...","field":"..."}}. Clients branch on the code; the detail
 * is for people.
 */
public enum ApiError {
    /** The body is not JSON, or not a JSON object. */
    BAD_JSON(HttpResponseStatus.BAD_REQUEST, "bad_json"),
    /** A field is missing, empty, of the wrong type or too long; also bad query parameters. */
    INVALID_FIELD(HttpResponseStatus.BAD_REQUEST, "invalid_field"),
    /** The body has a field the route does not accept. */
    UNKNOWN_FIELD(HttpResponseStatus.BAD_REQUEST, "unknown_field"),
    /** The request line or headers could not be parsed. */
    BAD_REQUEST(HttpResponseStatus.BAD_REQUEST, "bad_request"),
    /** No such path, or no such post. */
    NOT_FOUND(HttpResponseStatus.NOT_FOUND, "not_found"),
    /** The path exists but not with this method; the response carries Allow. */
    METHOD_NOT_ALLOWED(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed"),
    /** {@code If-Match} named a version that is no longer current. */
    PRECONDITION_FAILED(HttpResponseStatus.PRECONDITION_FAILED, "precondition_failed"),
    /** An {@code Idempotency-Key} was used before with another request body. */
    IDEMPOTENCY_KEY_REUSED(HttpResponseStatus.UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
    /** The body is larger than the configured limit. */
    PAYLOAD_TOO_LARGE(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large"),
    /** The body is not {@code application/json}. */
    UNSUPPORTED_MEDIA_TYPE(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    /** The store cannot be reached. */
    STORE_UNAVAILABLE(HttpResponseStatus.SERVICE_UNAVAILABLE, "store_unavailable"),
    /** The primary database cannot be reached: writes (and reads only it could serve) are refused. */
    PRIMARY_UNAVAILABLE(HttpResponseStatus.SERVICE_UNAVAILABLE, "primary_unavailable"),
    /** The store's work queue is full; retry shortly. */
    OVERLOADED(HttpResponseStatus.SERVICE_UNAVAILABLE, "overloaded"),
    /** A bug; logged with its stack trace. */
    INTERNAL(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal");

    private final HttpResponseStatus status;
    private final String code;

    ApiError(HttpResponseStatus status, String code) {
        this.status = status;
        this.code = code;
    }

    /** The HTTP status this failure is answered with. */
    public HttpResponseStatus status() {
        return status;
    }

    /** The value of the {@code error} field. */
    public String code() {
        return code;
    }
}
