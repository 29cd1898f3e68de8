package io.fulcrum.balancer.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a backend connection. While the connection serves an {@link UpstreamTry} it
 * hands every response part to it; while pooled it only watches for the backend closing, idling
 * out or sending bytes nobody asked for (which ends the connection). Confined to the channel's
 * event loop, which is also the client's.
 */
public final class ProxyBackendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyBackendHandler.class);

    private UpstreamTry upstream;
    /** An HTTP/2 stream the backend never processed ({@link BackendStreamCodec#REFUSED}), about to close. */
    private boolean refused;

    /** Binds the connection to a try until {@link #unbind()}. */
    void bind(UpstreamTry upstream) {
        this.upstream = upstream;
    }

    void unbind() {
        this.upstream = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamTry current = upstream;
        if (current == null) {
            // Bytes on an idle connection: the framing is off; never reuse it.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof ByteBuf) {
            // A switched protocol's bytes (the codec is gone once the backend answered 101).
            current.onTunnelData((ByteBuf) msg);
            return;
        }
        if (msg instanceof HttpResponse) {
            current.onResponseHead((HttpResponse) msg);
        }
        if (msg instanceof HttpContent) {
            if (upstream == current) {
                current.onResponseContent((HttpContent) msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamTry current = upstream;
        if (current != null) {
            current.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamTry current = upstream;
        if (current != null && ctx.channel().isWritable()) {
            current.onWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamTry current = upstream;
        upstream = null;
        if (current != null) {
            current.onClosed(refused);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // Only a tunnel allows half-closed connections: the backend sent its last byte.
            UpstreamTry current = upstream;
            if (current != null) {
                current.onTunnelInputShutdown();
            } else {
                ctx.close();
            }
            return;
        }
        if (evt == BackendStreamCodec.REFUSED) {
            refused = true;
            return;
        }
        if (evt instanceof IdleStateEvent) {
            // Reader idle: a pooled connection is closed; a busy one is its try's exchange's to judge
            // (the response timeout before the response, a stalled body after).
            UpstreamTry current = upstream;
            if (current == null) {
                ctx.close();
            } else {
                current.onIdle();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamTry current = upstream;
        if (current != null) {
            log.debug("backend connection {} failed: {}", ctx.channel().id(), cause.toString());
        }
        ctx.close();
    }
}
