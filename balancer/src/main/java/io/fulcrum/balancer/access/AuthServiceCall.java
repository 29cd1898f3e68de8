package io.fulcrum.balancer.access;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One question to a forward-auth service: a connection on the request's event loop, the request
 * written, the whole answer read (at most {@link ForwardAuth#MAX_ANSWER_BYTES}), the connection
 * closed, and the verdict given to the request's promise. The timeout covers all of it. Whoever
 * cancels the promise (the client left) ends the call: the connection closes.
 *
 * <p>Not thread safe: confined to the request's event loop.
 */
final class AuthServiceCall extends SimpleChannelInboundHandler<FullHttpResponse> {
    private static final Logger log = LoggerFactory.getLogger(AuthServiceCall.class);

    private final ForwardAuth auth;
    private final AuthRequest request;
    private final Promise<Verdict> promise;
    private Channel channel;
    private ScheduledFuture<?> timeout;

    AuthServiceCall(ForwardAuth auth, AuthRequest request, Promise<Verdict> promise) {
        this.auth = auth;
        this.request = request;
        this.promise = promise;
        promise.addListener(f -> end());
    }

    /** Connects to {@code address} and asks {@code ask} (released here). */
    void start(InetSocketAddress address, FullHttpRequest ask, EventExecutor loop) {
        if (promise.isDone()) {
            ask.release();
            return;
        }
        long millis = auth.config().timeout().toMillis();
        timeout = loop.schedule(() -> unavailable("no answer within " + auth.config().timeout()), millis,
                TimeUnit.MILLISECONDS);
        Bootstrap b = request.connections().get()
                .option(ChannelOption.AUTO_READ, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis)))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(ForwardAuth.MAX_ANSWER_BYTES),
                                AuthServiceCall.this);
                    }
                });
        ChannelFuture connect = b.connect(address);
        channel = connect.channel();
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                ask.release();
                unavailable("cannot connect: " + f.cause().getMessage());
            } else if (promise.isDone()) {
                ask.release();
                channel.close();
            } else {
                channel.writeAndFlush(ask).addListener(w -> {
                    if (!w.isSuccess()) {
                        unavailable("cannot send: " + w.cause().getMessage());
                    }
                });
            }
        });
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse answer) {
        if (answer.decoderResult().isFailure()) {
            unavailable("unreadable answer: " + answer.decoderResult().cause().getMessage());
            return;
        }
        Verdict v = auth.verdict(answer.retain(), request);
        if (!promise.trySuccess(v)) {
            v.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        unavailable("connection closed before an answer");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Too large an answer, a reset: the service gave nothing the client can use.
        unavailable(cause.getMessage());
    }

    /** Ends the call with the client's {@code unavailable-status}, unless it has ended already. */
    void unavailable(String why) {
        if (promise.isDone()) {
            return;
        }
        log.debug("forward-auth {}: {} (request {})", auth.config().url(), why, request.requestId());
        Verdict v = auth.unavailable(request);
        if (!promise.trySuccess(v)) {
            v.release();
        }
    }

    /** The promise is done (a verdict, or cancelled): the timer and the connection go. */
    private void end() {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (channel != null) {
            channel.close();
        }
    }
}
