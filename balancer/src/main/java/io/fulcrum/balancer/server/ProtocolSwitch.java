package io.fulcrum.balancer.server;

import io.fulcrum.balancer.edge.ConnectionEvents;
import io.fulcrum.balancer.http2.Http2Frontend;
import io.fulcrum.balancer.tls.HandshakeFailures;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * The handler that decides which protocol a new TLS connection speaks, by what the handshake
 * agreed on (ALPN), before {@link ProxyServerInitializer} adds the rest of its pipeline; and the
 * connection-level handler of an HTTP/2 connection. (On the cleartext port the HTTP/1.1 decoder
 * itself hands a connection that starts with HTTP/2's preface over.)
 */
final class ProtocolSwitch {
    private ProtocolSwitch() {
    }

    /** After the TLS handshake: HTTP/2 when ALPN chose h2, else HTTP/1.1. */
    static final class AlpnSwitch extends ApplicationProtocolNegotiationHandler {
        private final ProxyServerInitializer pipelines;

        AlpnSwitch(ProxyServerInitializer pipelines) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.pipelines = pipelines;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            // Reading is explicit: the handshake starts with this read of the ClientHello.
            ctx.read();
            super.channelActive(ctx);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            // Closes when the handshake did not finish in client-idle or request-head, or when the
            // balancer is shutting down.
            if (!ConnectionEvents.closesEarly(ctx, evt)) {
                super.userEventTriggered(ctx, evt);
            }
        }

        /**
         * Counted and logged as a sample ({@link HandshakeFailures}) instead of the WARN line with a
         * stack trace per failure that Netty's handler logs.
         */
        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            pipelines.handshakeFailures().record(ctx.channel().remoteAddress(), cause);
            ctx.close();
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                pipelines.addHttp2(ctx.pipeline());
            } else {
                pipelines.addHttp1(ctx.pipeline());
            }
        }
    }

    /**
     * The last handler of an HTTP/2 connection's pipeline: closes the connection when it has
     * been idle for {@code client-idle} with no stream open, and on drain closes it gracefully
     * (GOAWAY, then streams in progress may finish within the drain period; event streams end at
     * once).
     */
    static final class Http2Connection extends ChannelInboundHandlerAdapter {
        private final Http2Frontend codec;

        Http2Connection(Http2Frontend codec) {
            this.codec = codec;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                if (codec.connection().numActiveStreams() == 0) {
                    ctx.close();
                }
                return;
            }
            if (evt == ConnectionEvents.DRAIN) {
                // Event streams end first: they would hold the graceful close to the drain's end.
                codec.onDrain();
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
