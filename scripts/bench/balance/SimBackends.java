import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Simulated backends on 127.0.0.1: each has a fixed number of workers and a FIFO queue; a request
 * holds a worker for a service time drawn from an exponential distribution (or, for the tower
 * scenario, uniform below a maximum, with no worker limit). Faults follow {@link Scenario}: slower,
 * degrading, stalling, failing fast, restarted cold. Everything runs on one event loop thread, so
 * the model needs no locks. {@code /health} answers 200 at once.
 */
final class SimBackends {
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    final Sim[] backends;
    private final EventLoopGroup group;
    private volatile Scenario scenario;
    private volatile long runStart = System.nanoTime();
    private volatile long runNanos = 1;

    /**
     * {@code count} backends, each on a port the kernel picks as it binds (a port found free and
     * bound later may meanwhile be some client socket's ephemeral port).
     */
    SimBackends(EventLoopGroup group, Scenario scenario, int count) throws InterruptedException {
        this.group = group.next();
        this.scenario = scenario;
        this.backends = new Sim[count];
        for (int i = 0; i < count; i++) {
            backends[i] = new Sim(i);
            backends[i].bind();
        }
    }

    /** The backends' ports, in order. */
    int[] ports() {
        int[] ports = new int[backends.length];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = backends[i].port;
        }
        return ports;
    }

    /** The fault model from now on. */
    void scenario(Scenario s) {
        this.scenario = s;
    }

    /** Starts a measured run of {@code nanos}: fault timelines and counters start over. */
    void startRun(long nanos, long seed) {
        group.next().submit(() -> {
            runStart = System.nanoTime();
            runNanos = nanos;
            for (Sim s : backends) {
                s.random = new SplittableRandom(seed * 1000 + s.index);
                s.received = 0;
                s.failed = 0;
                s.coldUntil = 0;
                s.restarted = false;
            }
            scheduleRestart();
        }).syncUninterruptibly();
    }

    private void scheduleRestart() {
        if (scenario.kind() != Scenario.Kind.COLD) {
            return;
        }
        Sim s = backends[0];
        long at = runNanos / 3;
        group.next().schedule(() -> s.goDown(), at, TimeUnit.NANOSECONDS);
        group.next().schedule(() -> s.comeBack(), at + 2000 * MS, TimeUnit.NANOSECONDS);
    }

    long[] received() {
        long[] r = new long[backends.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = backends[i].received;
        }
        return r;
    }

    void close() {
        for (Sim s : backends) {
            if (s.server != null) {
                s.server.close().syncUninterruptibly();
            }
        }
    }

    /** One simulated backend; confined to the event loop. */
    final class Sim {
        final int index;
        /** The port, 0 until the first bind; a restart binds the same one again. */
        int port;
        final String id;
        SplittableRandom random;
        Channel server;
        final Set<Channel> connections = new HashSet<>();
        final ArrayDeque<Job> queue = new ArrayDeque<>();
        int busy;
        int generation;
        long received;
        long failed;
        long coldUntil;
        boolean restarted;

        Sim(int index) {
            this.index = index;
            this.id = "b" + index;
            this.random = new SplittableRandom(1000 + index);
        }

        void bind() throws InterruptedException {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.add(ch);
                            ch.closeFuture().addListener(f -> connections.remove(ch));
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new Handler(Sim.this));
                        }
                    }).bind("127.0.0.1", port).sync().channel();
            port = ((InetSocketAddress) server.localAddress()).getPort();
        }

        /** A restart: the port refuses, every connection and queued request is lost. */
        void goDown() {
            server.close();
            for (Channel c : new HashSet<>(connections)) {
                c.close();
            }
            queue.clear();
            busy = 0;
            generation++;
        }

        void comeBack() {
            try {
                bind();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            restarted = true;
            coldUntil = System.nanoTime() + 5000 * MS;
        }

        void arrive(ChannelHandlerContext ctx, boolean keepAlive) {
            received++;
            if (scenario.kind() == Scenario.Kind.FAST_FAIL && index == 0 && random.nextDouble() < 0.3) {
                failed++;
                respond(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE);
                return;
            }
            Job job = new Job(ctx, keepAlive, generation);
            if (busy < scenario.workers()) {
                start(job);
            } else {
                queue.add(job);
            }
        }

        private void start(Job job) {
            busy++;
            long now = System.nanoTime();
            long end = now + serviceNanos(now);
            end = stallShifted(now, end);
            long delay = Math.max(0, end - now);
            int gen = job.generation;
            job.ctx.channel().eventLoop().schedule(() -> finish(job, gen), delay, TimeUnit.NANOSECONDS);
        }

        private void finish(Job job, int gen) {
            if (gen != generation) {
                return;
            }
            respond(job.ctx, job.keepAlive, HttpResponseStatus.OK);
            busy--;
            Job next = queue.poll();
            if (next != null) {
                start(next);
            }
        }

        private long serviceNanos(long now) {
            if (scenario.kind() == Scenario.Kind.TOWER) {
                long max = Scenario.TOWER_MAX_MS[index] * MS;
                return (long) (random.nextDouble() * max);
            }
            double mean = scenario.meanMs() * MS * slowdown(now);
            return (long) (-Math.log(1 - random.nextDouble()) * mean);
        }

        /** How many times slower than normal this backend is at {@code now}. */
        double slowdown(long now) {
            long t = now - runStart;
            boolean middle = t >= runNanos / 3 && t < 2 * runNanos / 3;
            switch (scenario.kind()) {
                case SLOW:
                    return index == 0 ? 3 : 1;
                case DEGRADE:
                    return index == 0 && middle ? 10 : 1;
                case REGION_SLOW:
                    return index >= backends.length / 2 && middle ? 3 : 1;
                case COLD:
                    if (index == 0 && restarted && now < coldUntil) {
                        return 1 + 4.0 * (coldUntil - now) / (5000 * MS);
                    }
                    return 1;
                default:
                    return 1;
            }
        }

        /** A freeze of 250 ms every 2 s (from 1 s into the run) stops the work in progress. */
        private long stallShifted(long start, long end) {
            if (scenario.kind() != Scenario.Kind.STALL || index != 0) {
                return end;
            }
            long period = 2000 * MS;
            long pause = 250 * MS;
            long phase = 1000 * MS;
            long remaining = end - start;
            long t = start;
            while (true) {
                long rel = t - runStart - phase;
                long k = Math.floorDiv(rel, period);
                long windowStart = runStart + phase + k * period;
                if (t < windowStart + pause && t >= windowStart) {
                    t = windowStart + pause;
                    continue;
                }
                long nextWindow = windowStart + period;
                if (t + remaining <= nextWindow) {
                    return t + remaining;
                }
                remaining -= nextWindow - t;
                t = nextWindow + pause;
            }
        }

        private void respond(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status) {
            if (!ctx.channel().isActive()) {
                return;
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.wrappedBuffer(id.getBytes(StandardCharsets.US_ASCII)));
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, id.length()).set("X-Backend", id);
            if (!keepAlive) {
                r.headers().set(HttpHeaderNames.CONNECTION, "close");
            }
            ctx.writeAndFlush(r);
        }
    }

    record Job(ChannelHandlerContext ctx, boolean keepAlive, int generation) {
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Sim sim;

        Handler(Sim sim) {
            this.sim = sim;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = io.netty.handler.codec.http.HttpUtil.isKeepAlive(req);
            if (req.uri().startsWith("/health")) {
                sim.respond(ctx, keepAlive, HttpResponseStatus.OK);
                return;
            }
            sim.arrive(ctx, keepAlive);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
