import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The load generator: an open loop of Poisson arrivals at a fixed rate (every latency counted from
 * the time the request was scheduled to be sent, so a slow proxy cannot slow the load down and hide
 * its queue: no coordinated omission), or a closed loop of N concurrent requests. A request goes on
 * an idle keep-alive connection, or a new one when none is idle. Everything runs on one event loop.
 * A request is a failure when its status is not 200, its connection fails, or it gets no answer in
 * 10 s.
 */
final class Load {
    static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** What a run measured: latencies of successes (µs) and failures. */
    static final class Result {
        final Histogram latencyMicros = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        long sent;
        long ok;
        long failed;
    }

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private Result result;
    private long outstanding;
    private CountDownLatch done;
    private boolean sending;

    Load(EventLoopGroup group, int port) {
        this.loop = group.next();
        this.bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .remoteAddress("127.0.0.1", port)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                });
    }

    /** Poisson arrivals at {@code rate} a second for {@code nanos}; waits for the last answer. */
    Result open(double rate, long nanos, long seed) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(seed);
        long n = Math.round(rate * nanos / 1e9);
        long[] at = new long[(int) n];
        double t = 0;
        for (int i = 0; i < n; i++) {
            t += -Math.log(1 - random.nextDouble()) / rate * 1e9;
            at[i] = (long) t;
        }
        Result r = new Result();
        done = new CountDownLatch(1);
        loop.submit(() -> {
            result = r;
            outstanding = n;
            sending = true;
            long start = System.nanoTime();
            new Object() {
                int next;

                void tick() {
                    long now = System.nanoTime();
                    while (next < at.length && start + at[next] <= now) {
                        send(start + at[next]);
                        next++;
                    }
                    if (next < at.length) {
                        loop.schedule(this::tick, start + at[next] - System.nanoTime(), TimeUnit.NANOSECONDS);
                    } else {
                        sending = false;
                    }
                }
            }.tick();
        });
        await(nanos);
        return r;
    }

    /** {@code concurrency} requests in flight at all times for {@code nanos}. */
    Result closed(int concurrency, long nanos) throws InterruptedException {
        Result r = new Result();
        done = new CountDownLatch(1);
        long end = System.nanoTime() + nanos;
        loop.submit(() -> {
            result = r;
            outstanding = Long.MAX_VALUE;
            sending = true;
            closedEnd = end;
            inFlight = 0;
            for (int i = 0; i < concurrency; i++) {
                inFlight++;
                send(System.nanoTime());
            }
        });
        await(nanos);
        return r;
    }

    private long closedEnd;
    private int inFlight;

    private void await(long nanos) throws InterruptedException {
        if (!done.await(nanos + TIMEOUT_NANOS + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS)) {
            System.err.println("load: gave up waiting for the last answers");
        }
        loop.submit(() -> {
            for (Channel c : idle) {
                c.close();
            }
            idle.clear();
        }).syncUninterruptibly();
    }

    private void send(long scheduled) {
        result.sent++;
        Channel c = idle.pollLast();
        if (c != null && c.isActive()) {
            write(c, scheduled);
            return;
        }
        ChannelFuture f = bootstrap.connect();
        f.addListener(x -> {
            if (x.isSuccess()) {
                write(f.channel(), scheduled);
            } else {
                ended(scheduled, false, null);
            }
        });
    }

    private void write(Channel c, long scheduled) {
        Handler h = c.pipeline().get(Handler.class);
        h.scheduled = scheduled;
        h.pending = true;
        h.timeout = loop.schedule(() -> {
            if (h.pending) {
                h.pending = false;
                c.close();
                ended(scheduled, false, null);
            }
        }, TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/work");
        req.headers().set(HttpHeaderNames.HOST, "127.0.0.1");
        c.writeAndFlush(req);
    }

    private void ended(long scheduled, boolean ok, Channel reusable) {
        long now = System.nanoTime();
        if (ok) {
            result.ok++;
            result.latencyMicros.recordValue(Math.min(result.latencyMicros.getHighestTrackableValue(),
                    Math.max(0, (now - scheduled) / 1000)));
        } else {
            result.failed++;
        }
        if (reusable != null) {
            idle.addLast(reusable);
        }
        if (closedEnd != 0) {
            if (now < closedEnd) {
                send(now);
            } else if (--inFlight == 0) {
                closedEnd = 0;
                done.countDown();
            }
            return;
        }
        if (--outstanding == 0 && !sending) {
            done.countDown();
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpResponse> {
        long scheduled;
        boolean pending;
        io.netty.util.concurrent.ScheduledFuture<?> timeout;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
            if (!pending) {
                return;
            }
            pending = false;
            timeout.cancel(false);
            boolean keep = HttpUtil.isKeepAlive(res);
            if (!keep) {
                ctx.close();
            }
            ended(scheduled, res.status().code() == 200, keep ? ctx.channel() : null);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (pending) {
                pending = false;
                timeout.cancel(false);
                ended(scheduled, false, null);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
