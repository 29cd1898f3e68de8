package io.fulcrum.balancer.access;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.util.ReferenceCountUtil;

/**
 * What an access check decided about one request: it passes, or the client gets {@link #response()}
 * instead of a backend's answer. A verdict with a response owns it: whoever takes the verdict
 * writes the response or {@link #release()}s it. Immutable.
 *
 * @param response the client's answer, or {@code null} when the request passes
 * @param reason why the request was answered here, for the access log; {@code null} when it passes
 */
public record Verdict(FullHttpResponse response, String reason) {
    /** The request passes. */
    public static final Verdict PASS = new Verdict(null, null);

    /** Whether the request goes on to its backend. */
    public boolean passes() {
        return response == null;
    }

    /** Frees the response of a verdict that will not be written. */
    public void release() {
        ReferenceCountUtil.release(response);
    }
}
