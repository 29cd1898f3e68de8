package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A burst of requests sent at once: {@code n} HTTP/1.1 connections opened together, one GET each
 * ({@link #http1}), or {@code n} HTTP/2 streams opened together on one cleartext connection with
 * prior knowledge ({@link #h2c}), all on one client event loop, so that thousands cost no threads.
 * Every answer is kept: status, {@code Retry-After} and the balancer's backend header. A request
 * without an answer by the deadline (or whose connection failed) counts with status -1.
 *
 * <p>Not thread safe: one burst per instance, run from the test thread; close it after use.
 */
public final class HttpBurst implements AutoCloseable {
    /**
     * One request's answer.
     *
     * @param status the status code, or -1 without a response
     * @param retryAfter the {@code Retry-After} value, or {@code null}
     * @param backend the backend header's value, or {@code null}
     * @param error why no response came, or {@code null}
     */
    public record Answer(int status, String retryAfter, String backend, String error) {
    }

    /** Every answer of one burst. */
    public record Result(List<Answer> answers) {
        public Result {
            answers = List.copyOf(answers);
        }

        /** Answers by status, e.g. {@code {200=3000}}. */
        public Map<Integer, Integer> statuses() {
            Map<Integer, Integer> out = new TreeMap<>();
            answers.forEach(a -> out.merge(a.status(), 1, Integer::sum));
            return out;
        }

        /** How many answers had {@code status}. */
        public int count(int status) {
            return (int) answers.stream().filter(a -> a.status() == status).count();
        }

        /** The first answers that were not {@code status}, for failure messages. */
        public List<Answer> other(int status) {
            return answers.stream().filter(a -> a.status() != status).limit(5).toList();
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /**
     * Opens {@code n} connections to {@code port} at once, sends {@code GET target} on each as
     * soon as it is connected, and waits at most {@code within} for every answer.
     */
    public Result http1(int port, String target, int n, Duration within) throws InterruptedException {
        requireNonNull(target, "target");
        ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(n);
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) within.toMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                new Receiver(answers, done));
                    }
                });
        for (int i = 0; i < n; i++) {
            b.connect("127.0.0.1", port).addListener(f -> {
                if (!f.isSuccess()) {
                    answers.add(new Answer(-1, null, null, String.valueOf(f.cause())));
                    done.countDown();
                    return;
                }
                Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                        target);
                request.headers().set(HttpHeaderNames.HOST, "127.0.0.1:" + port);
                ch.writeAndFlush(request);
            });
        }
        return collect(answers, done, n, within);
    }

    /**
     * Opens one HTTP/2 connection to {@code port} (cleartext, prior knowledge), then {@code n}
     * streams on it at once, one {@code GET target} each, and waits at most {@code within} for
     * every answer. The balancer's limit on concurrent streams must allow {@code n}.
     */
    public Result h2c(int port, String target, int n, Duration within) throws InterruptedException {
        requireNonNull(target, "target");
        ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(n);
        H2cClient connection = H2cClient.connect(group, port);
        try {
            group.next().submit(() -> {
                for (int i = 0; i < n; i++) {
                    connection.openStream(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                                    new HttpObjectAggregator(1 << 20), new Receiver(answers, done));
                        }
                    }).addListener(f -> {
                        if (!f.isSuccess()) {
                            answers.add(new Answer(-1, null, null, String.valueOf(f.cause())));
                            done.countDown();
                            return;
                        }
                        Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
                        stream.writeAndFlush(H2cClient.getRequest(port, target));
                    });
                }
            }).sync();
            return collect(answers, done, n, within);
        } finally {
            connection.close();
        }
    }

    private static Result collect(ConcurrentLinkedQueue<Answer> answers, CountDownLatch done, int n, Duration within)
            throws InterruptedException {
        done.await(within.toMillis(), TimeUnit.MILLISECONDS);
        List<Answer> out = new ArrayList<>(answers);
        for (int i = out.size(); i < n; i++) {
            out.add(new Answer(-1, null, null, "no answer within " + within));
        }
        return new Result(out.subList(0, n));
    }

    /** Keeps a connection's or stream's one answer, then closes it. */
    private static final class Receiver extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final ConcurrentLinkedQueue<Answer> answers;
        private final CountDownLatch done;
        private boolean answered;

        Receiver(ConcurrentLinkedQueue<Answer> answers, CountDownLatch done) {
            this.answers = answers;
            this.done = done;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
            if (answered) {
                return;
            }
            answered = true;
            answers.add(new Answer(r.status().code(), r.headers().get(HttpHeaderNames.RETRY_AFTER),
                    r.headers().get(Fixtures.BACKEND_HEADER), null));
            done.countDown();
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!answered) {
                answered = true;
                answers.add(new Answer(-1, null, null, "closed without an answer"));
                done.countDown();
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!answered) {
                answered = true;
                answers.add(new Answer(-1, null, null, cause.toString()));
                done.countDown();
            }
            ctx.close();
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
