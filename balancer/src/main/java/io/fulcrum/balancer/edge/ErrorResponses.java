package io.fulcrum.balancer.edge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Builds the short JSON error responses the balancer itself sends:
 * {@code {"error":"...","requestId":"..."}}. Stateless.
 */
public final class ErrorResponses {
    private ErrorResponses() {
    }

    /**
     * A complete error response. {@code close} adds {@code Connection: close}, for errors after
     * which the request framing is in doubt.
     */
    public static FullHttpResponse json(ByteBufAllocator alloc, HttpResponseStatus status, String error,
            String requestId, boolean close) {
        StringBuilder json = new StringBuilder(64).append("{\"error\":\"");
        appendEscaped(json, error);
        json.append('"');
        if (requestId != null) {
            json.append(",\"requestId\":\"");
            appendEscaped(json, requestId);
            json.append('"');
        }
        json.append("}\n");
        ByteBuf body = alloc.buffer(json.length());
        body.writeCharSequence(json, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (requestId != null) {
            response.headers().set(HeaderRules.X_REQUEST_ID, requestId);
        }
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    private static void appendEscaped(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
    }
}
