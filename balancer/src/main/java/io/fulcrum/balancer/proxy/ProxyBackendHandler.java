package io.fulcrum.balancer.proxy;

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
 * The last handler of a backend connection. While the connection serves an {@link Exchange} it
 * hands every response part to it; while pooled it only watches for the backend closing, idling
 * out or sending bytes nobody asked for (which ends the connection). Confined to the channel's
 * event loop, which is also the client's.
 */
final class ProxyBackendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyBackendHandler.class);

    private Exchange exchange;

    /** Binds the connection to an exchange until {@link #unbind()}. */
    void bind(Exchange exchange) {
        this.exchange = exchange;
    }

    void unbind() {
        this.exchange = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Exchange current = exchange;
        if (current == null) {
            // Bytes on an idle connection: the framing is off; never reuse it.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof ByteBuf) {
            // A switched protocol's bytes (the codec is gone once the backend answered 101).
            current.onTunnelData(true, (ByteBuf) msg);
            return;
        }
        if (msg instanceof HttpResponse) {
            current.onResponseHead((HttpResponse) msg);
        }
        if (msg instanceof HttpContent) {
            if (exchange == current) {
                current.onResponseContent((HttpContent) msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange current = exchange;
        if (current != null) {
            current.onBackendReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange current = exchange;
        if (current != null && ctx.channel().isWritable()) {
            current.onBackendWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange current = exchange;
        exchange = null;
        if (current != null) {
            current.onBackendClosed(ctx.channel());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // Only a tunnel allows half-closed connections: the backend sent its last byte.
            Exchange current = exchange;
            if (current != null) {
                current.onTunnelInputShutdown(true);
            } else {
                ctx.close();
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            // Reader idle: a pooled connection is closed; a busy one is its exchange's to judge
            // (the response timeout before the response, a stalled body after).
            Exchange current = exchange;
            if (current == null) {
                ctx.close();
            } else {
                current.onBackendIdle();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Exchange current = exchange;
        if (current != null) {
            log.debug("backend connection {} failed: {}", ctx.channel().id(), cause.toString());
        }
        ctx.close();
    }
}
