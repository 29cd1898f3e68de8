package io.fulcrum.balancer.http1;

import io.fulcrum.balancer.exchange.HalfClose;
import io.fulcrum.balancer.exchange.TunnelSide;
import io.fulcrum.balancer.http1.FrontendConnection.State;
import io.fulcrum.balancer.http1.codec.Http1Decoder;
import io.fulcrum.balancer.http1.codec.Http1Encoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * How an HTTP/1.1 client connection switches protocols for an upgrade request (RFC 9110 section
 * 7.8): its {@link TunnelSide}, given to the exchange of such a request. After the 101 the
 * connection drops its HTTP codec and relays bytes; its {@link FrontendConnection} is then in a
 * tunnel state, which {@link FrontendConnection#abortResponse} reads to end it.
 *
 * <p>Not thread safe: confined to the client channel's event loop.
 */
final class FrontendTunnel implements TunnelSide {
    private final ChannelHandlerContext ctx;
    private final FrontendConnection connection;
    private final long idleNanos;

    /**
     * @param ctx the frontend handler's context
     * @param idleNanos how long the tunnel may carry nothing either way
     */
    FrontendTunnel(ChannelHandlerContext ctx, FrontendConnection connection, long idleNanos) {
        this.ctx = ctx;
        this.connection = connection;
        this.idleNanos = idleNanos;
    }

    @Override
    public void startTunnel(HttpResponse switching) {
        if (connection.state() == State.EXCHANGING) {
            // Otherwise the connection is already closing; the writes below then go nowhere.
            connection.moveTo(State.TUNNELING);
        }
        ctx.writeAndFlush(switching, ctx.voidPromise());
        ChannelPipeline p = ctx.pipeline();
        p.remove(Http1Encoder.class);
        // A FIN from the client ends its direction only (Exchange.onTunnelInputShutdown).
        ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        // Both directions count as activity from now on.
        IdleStateHandler idle = new IdleStateHandler(0, 0, idleNanos, TimeUnit.NANOSECONDS);
        if (p.get(IdleStateHandler.class) != null) {
            p.replace(IdleStateHandler.class, "tunnel-idle", idle);
        } else {
            p.addBefore(ctx.name(), "tunnel-idle", idle);
        }
        // Removed last: bytes the client sent after its request come to channelRead, for the tunnel.
        p.remove(Http1Decoder.class);
        // Reading stopped when the request was complete; the tunnel reads as long as the backend can take it.
        ctx.read();
    }

    @Override
    public void writeTunnel(ByteBuf data) {
        ctx.write(data, ctx.voidPromise());
    }

    @Override
    public void shutdownTunnelOutput() {
        if (connection.state() == State.TUNNELING) {
            connection.moveTo(State.TUNNEL_OUTPUT_SHUT);
        }
        HalfClose.shutdownOutput(ctx.channel());
    }

    @Override
    public void upgradeRefused() {
        Http1Decoder decoder = ctx.pipeline().get(Http1Decoder.class);
        if (decoder != null) {
            decoder.resume();
        }
    }
}
