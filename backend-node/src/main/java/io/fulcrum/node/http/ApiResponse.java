package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;

/**
 * A response before it becomes Netty objects: status, extra headers and body bytes. Built on any
 * thread (often a store worker); turned into a {@code FullHttpResponse} only on the channel's event
 * loop, so no {@code ByteBuf} ever crosses threads.
 *
 * <p>Immutable and thread-safe.
 */
public record ApiResponse(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
    /** Validates and copies the headers. */
    public ApiResponse {
        requireNonNull(status, "status");
        requireNonNull(body, "body");
        headers = Map.copyOf(headers);
    }

    /** A JSON response. */
    public static ApiResponse json(HttpResponseStatus status, byte[] body, Map<String, String> headers) {
        return new ApiResponse(status, "application/json", body, headers);
    }

    /** A response without a body (204, 304). */
    public static ApiResponse empty(HttpResponseStatus status) {
        return new ApiResponse(status, null, new byte[0], Map.of());
    }
}
