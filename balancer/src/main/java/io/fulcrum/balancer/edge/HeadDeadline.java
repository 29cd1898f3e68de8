package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.balancing.NanoClock;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The request-head deadline of one client connection ({@code timeouts.request-head}), as HAProxy's
 * {@code timeout http-request} and nginx's {@code client_header_timeout}: a head must be complete
 * within a fixed time of its first byte, however the client spaces its bytes. The client-idle
 * timer restarts on every byte, so on its own it lets a client that sends one header line per
 * second (Slowloris) hold a connection for ever.
 *
 * <ul>
 *   <li>The connection's first head is due {@code request-head} after the connection was
 *       accepted: the PROXY header and the TLS handshake count towards it, so that no part of
 *       what a client must send before its first request can be stretched.
 *   <li>Between requests nothing is due (client-idle applies); the protocol's handler says when
 *       it waits for the next head ({@link #awaitHead}), and the next byte read starts the
 *       deadline ({@link #headBegun} for a protocol that sees where a head starts itself).
 *   <li>The protocol's handler says when a head is complete ({@link #headReceived}).
 * </ul>
 *
 * When a head is late, {@link #EXPIRED} is sent down the pipeline; whichever handler holds the
 * connection at that point answers it (408, GOAWAY, or a plain close before any HTTP). This
 * handler is first in the pipeline, so it sees every byte read, TLS records included.
 *
 * <p>One timer per connection, scheduled for the earliest deadline and re-armed when it finds a
 * later one, so nothing is scheduled or cancelled per request. Not thread safe: confined to the
 * connection's event loop.
 */
public final class HeadDeadline extends ChannelInboundHandlerAdapter {
    /** User event: the head awaited was not complete in time. */
    public static final Object EXPIRED = new Object() {
        @Override
        public String toString() {
            return "HeadDeadline.EXPIRED";
        }
    };

    private final NanoClock clock;
    private final long headNanos;
    private final DeadlineTimer timer;
    private final Runnable onExpired;
    private ChannelHandlerContext ctx;
    private boolean armed;
    private long deadline;
    /** Waiting for the next head: the next byte read starts its deadline. */
    private boolean armOnRead;

    /** @param onExpired counts a connection whose head was late (it is closed) */
    public HeadDeadline(NanoClock clock, long headNanos, Runnable onExpired) {
        this.clock = clock;
        this.headNanos = headNanos;
        this.onExpired = onExpired;
        this.timer = new DeadlineTimer(clock, this::onTimer);
    }

    /** Finds the connection's deadline, or {@code null} when its pipeline has none (unit tests). */
    public static HeadDeadline of(ChannelHandlerContext ctx) {
        return ctx.pipeline().get(HeadDeadline.class);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        // Added when the connection is accepted: its first head is due from now.
        arm();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (armOnRead) {
            armOnRead = false;
            arm();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    /** The head awaited is complete: nothing is due until the next one begins. */
    public void headReceived() {
        armed = false;
        armOnRead = false;
    }

    /**
     * The connection waits for its next head. Its deadline starts now if some of it was already
     * read ({@code begun}), else at the next byte read. A deadline already running (the
     * connection's first head, or one still incomplete) runs on.
     */
    public void awaitHead(boolean begun) {
        if (armed) {
            return;
        }
        if (begun) {
            arm();
        } else {
            armOnRead = true;
        }
    }

    /** A head has begun now (its protocol saw its first byte): due in {@code request-head}, unless one runs. */
    void headBegun() {
        armOnRead = false;
        if (!armed) {
            arm();
        }
    }

    private void arm() {
        armed = true;
        deadline = clock.nanoTime() + headNanos;
        timer.arm(ctx.executor(), deadline);
    }

    private void stop() {
        armed = false;
        armOnRead = false;
        timer.cancel();
    }

    private void onTimer() {
        if (!armed || !ctx.channel().isActive()) {
            return;
        }
        if (clock.nanoTime() - deadline >= 0) {
            armed = false;
            onExpired.run();
            ctx.fireUserEventTriggered(EXPIRED);
        } else {
            timer.arm(ctx.executor(), deadline);
        }
    }

    /** One per connection: answered here, not by Netty's per-thread annotation cache (a lookup per handler added). */
    @Override
    public boolean isSharable() {
        return false;
    }
}
