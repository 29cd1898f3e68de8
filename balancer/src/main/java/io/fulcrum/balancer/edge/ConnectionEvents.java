package io.fulcrum.balancer.edge;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * The user events the balancer sends down a client connection's pipeline, which every handler
 * that owns the connection's fate (the PROXY header reader, the protocol switch, the HTTP/1.1 and
 * HTTP/2 frontends) reacts to.
 */
public final class ConnectionEvents {
    /** Sent to every client channel when the balancer starts draining. */
    public static final Object DRAIN = new Object();

    private ConnectionEvents() {
    }

    /**
     * For the handlers that hold a connection before its first request (the PROXY header reader,
     * the TLS protocol switch): closes it, and answers {@code true}, when nothing or too little
     * came for client-idle, what had to come before the first request was not complete within
     * request-head of the accept, or the balancer drains. There is nothing to finish.
     */
    public static boolean closesEarly(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent || evt == DRAIN || evt == HeadDeadline.EXPIRED) {
            ctx.close();
            return true;
        }
        return false;
    }
}
