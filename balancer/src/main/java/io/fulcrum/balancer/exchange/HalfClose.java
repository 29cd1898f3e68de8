package io.fulcrum.balancer.exchange;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;

/**
 * Ending one direction of a tunnel's connection (TCP half-close, RFC 9293 section 3.6) without
 * losing what was written before: the FIN goes out only once every byte written so far has.
 * Netty's {@code shutdownOutput} fails the writes still queued, hence the wait for an empty write
 * queued behind them. Over TLS the FIN comes without a {@code close_notify}: sending one would end
 * the TLS session both ways (Netty's {@code SslHandler} then reads nothing more), while the point
 * of a half-close is that the other direction goes on.
 *
 * <p>Stateless; call on the channel's event loop.
 */
public final class HalfClose {
    private HalfClose() {
    }

    /** Sends a FIN once what was written is out; closes instead where the channel has no half-close. */
    public static void shutdownOutput(Channel ch) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
            if (written.isSuccess() && ch instanceof DuplexChannel duplex && ch.isActive()) {
                duplex.shutdownOutput();
            } else {
                ch.close();
            }
        });
    }

    /** Closes once what was written is out. */
    static void closeAfterWrites(Channel ch) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
}
