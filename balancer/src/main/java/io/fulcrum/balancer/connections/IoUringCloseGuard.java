package io.fulcrum.balancer.connections;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/**
 * Makes a socket that Netty's io_uring channel closes from inside a read really close. With
 * one-shot polls ({@link Transport#IO_URING_MULTISHOT_POLL_PROPERTY}), Netty 4.2.18 delays the close
 * of a channel that still has a write in flight until the write completes, and meanwhile ends the
 * read under way by arming a new {@code POLLIN} poll when a handler had asked for more (Netty's
 * {@code SslHandler} does, for one, as it fails a handshake). That poll is armed after the close
 * cancelled the channel's operations, so nothing cancels it: it keeps the socket's file open after
 * the channel closed its descriptor, and the peer sees no FIN until it sends something or gives up.
 * A client that sent plain HTTP to the TLS port waited for its own timeout instead of seeing the
 * connection end.
 *
 * <p>A close asked for during a read first shuts the socket's input: a poll armed on a socket
 * whose input is shut completes at once, and the socket's last reference goes with it. Shutting
 * the input sends nothing to the peer and leaves writes in flight alone; a close outside a read
 * (after a response was written, on a timer) costs nothing more.
 *
 * <p>One per io_uring socket channel, first in its pipeline; confined to its event loop.
 */
public final class IoUringCloseGuard extends ChannelDuplexHandler {
    private boolean inRead;

    private IoUringCloseGuard() {
    }

    /** Puts a guard first in {@code ch}'s pipeline if it is an io_uring socket; other transports need none. */
    public static void install(Channel ch) {
        if (ch instanceof IoUringSocketChannel) {
            ch.pipeline().addFirst("close-guard", new IoUringCloseGuard());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inRead = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        try {
            ctx.fireChannelReadComplete();
        } finally {
            inRead = false;
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
        if (inRead && ctx.channel() instanceof DuplexChannel socket && socket.isOpen() && !socket.isInputShutdown()) {
            socket.shutdownInput();
        }
        ctx.close(promise);
    }

    /** One per connection: answered here, not by Netty's per-thread annotation cache (a lookup per handler added). */
    @Override
    public boolean isSharable() {
        return false;
    }
}
