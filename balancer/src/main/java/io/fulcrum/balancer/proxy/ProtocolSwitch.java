package io.fulcrum.balancer.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * The handlers that decide which protocol a new client connection speaks before the rest of its
 * pipeline is added by {@link ProxyServerInitializer}: on the cleartext port the first bytes
 * (HTTP/2's connection preface, or anything else for HTTP/1.1), on the TLS port the protocol the
 * handshake agreed on (ALPN). Also the connection-level handler of an HTTP/2 connection.
 */
final class ProtocolSwitch {
    private ProtocolSwitch() {
    }

    /**
     * Reads until the first bytes either match HTTP/2's connection preface (RFC 9113 section 3.4,
     * "prior knowledge") or cannot, then puts the pipeline of that protocol after itself, hands it
     * the bytes read, and leaves. At most 24 bytes are held.
     */
    static final class PrefaceSniffer extends ChannelInboundHandlerAdapter {
        private final ProxyServerInitializer pipelines;
        private ByteBuf received;

        PrefaceSniffer(ProxyServerInitializer pipelines) {
            this.pipelines = pipelines;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.read();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf)) {
                ctx.fireChannelRead(msg);
                return;
            }
            ByteBuf in = (ByteBuf) msg;
            if (received == null) {
                received = in;
            } else {
                received = ctx.alloc().compositeBuffer().addComponents(true, received, in);
            }
            ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
            try {
                int n = Math.min(received.readableBytes(), preface.readableBytes());
                boolean matches = ByteBufUtil.equals(received, received.readerIndex(), preface, preface.readerIndex(), n);
                if (!matches) {
                    switchTo(ctx, false);
                } else if (n == preface.readableBytes()) {
                    switchTo(ctx, true);
                }
            } finally {
                preface.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (received != null) {
                // Part of the preface so far: read the rest.
                ctx.read();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent || evt == ProxyFrontendHandler.DRAIN) {
                // Not even a first request in client-idle, or shutting down: nothing to wait for.
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        private void switchTo(ChannelHandlerContext ctx, boolean h2) {
            if (h2) {
                pipelines.addHttp2(ctx.pipeline());
            } else {
                pipelines.addHttp1(ctx.pipeline());
            }
            ByteBuf bytes = received;
            received = null;
            ctx.fireChannelRead(bytes);
            ctx.fireChannelReadComplete();
            ctx.pipeline().remove(this);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (received != null) {
                received.release();
                received = null;
            }
        }
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
            if (evt instanceof IdleStateEvent || evt == ProxyFrontendHandler.DRAIN) {
                // The handshake did not finish in client-idle, or the balancer is shutting down.
                ctx.close();
                return;
            }
            super.userEventTriggered(ctx, evt);
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
     * The last handler of an HTTP/2 connection's own pipeline (its streams have pipelines of
     * their own): closes the connection when it has been idle for {@code client-idle} with no
     * stream open, and on drain closes it gracefully (GOAWAY, then streams in progress may finish
     * within the drain period).
     */
    static final class Http2Connection extends ChannelInboundHandlerAdapter {
        private final Http2FrameCodec codec;

        Http2Connection(Http2FrameCodec codec) {
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
            if (evt == ProxyFrontendHandler.DRAIN) {
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
