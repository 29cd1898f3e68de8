package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * The responses of routes that answer themselves: a redirect, a fixed response, or the 404 of
 * no route. Each carries {@code X-Request-Id} and has the route's response header edits applied.
 * Stateless.
 */
public final class RouteResponses {
    /** The error of the 404 that a request no route matches gets (when there is no default pool). */
    public static final String NO_ROUTE = "no route for this request";

    private RouteResponses() {
    }

    /**
     * The answer of {@code route} (not a route to a pool) to {@code request}.
     *
     * @param scheme {@code http} or {@code https}, as the client connected
     * @param host the request's Host field, or {@code null}
     */
    public static FullHttpResponse of(ByteBufAllocator alloc, Route<?> route, HttpRequest request, String requestId,
            String scheme, String host) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(route.status());
        FullHttpResponse response;
        switch (route.kind()) {
            case NO_ROUTE -> response = ErrorResponses.json(alloc, status, NO_ROUTE, requestId, false);
            case REDIRECT -> {
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
                response.headers().set(HttpHeaderNames.LOCATION, route.location(scheme, host, request.uri()))
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
            case RESPOND -> {
                byte[] bytes = route.body().getBytes(StandardCharsets.UTF_8);
                // HEAD: the same headers, Content-Length included, and no body (RFC 9110 section 9.3.2).
                ByteBuf body = HttpMethod.HEAD.equals(request.method()) ? Unpooled.EMPTY_BUFFER
                        : alloc.buffer(bytes.length).writeBytes(bytes);
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, route.contentType())
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            }
            default -> throw new IllegalArgumentException("a route to a pool has no answer of its own: " + route);
        }
        response.headers().set(HeaderRules.X_REQUEST_ID, requestId);
        route.editResponse(response.headers());
        return response;
    }
}
