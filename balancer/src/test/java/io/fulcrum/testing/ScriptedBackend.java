package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend whose misbehaviour a test scripts while traffic runs, on 127.0.0.1 with its own event
 * loop. It answers {@code /health} with {@code {"status":"UP","load":...}} (counted apart from
 * traffic; {@link #healthStatus(int)}) and every other request with {@link #status()} and a body
 * of {@link #bodyBytes()} bytes that starts with its name ({@link #expectedBody}), after an
 * optional {@link #delay}, or once the test releases it ({@link #hold}, {@link #release()}); the
 * {@code X-Backend-Name} response header names it too. Faults, any of which may be switched at
 * any time:
 * <ul>
 *   <li>{@link #kill()}: like SIGKILL, the listening socket closes (new connects are refused)
 *       and every open connection is reset; {@link #restart()} binds the same port again;</li>
 *   <li>{@link #flap(Duration)}: killed and restarted every period until {@link #stopFlapping()};</li>
 *   <li>{@link Fault#HANG}: accepts and reads requests but never answers (like SIGSTOP, as far
 *       as the balancer can tell);</li>
 *   <li>{@link Fault#ERROR_5XX}: answers 503;</li>
 *   <li>{@link Fault#RESET_HALF}: of every four requests, two get the head and half the body and
 *       then a reset, one gets a reset before any byte, one is answered; {@code ?chunked=true}
 *       frames the answer in chunks.</li>
 * </ul>
 * It counts requests per {@code "METHOD /path"}, remembers the {@code Idempotency-Key}s and the
 * {@code X-Load-Seq} numbers (see {@link HttpLoad}) of what it received.
 *
 * <p>Thread-safe: knobs are volatile, counters atomic or concurrent; the handlers run on the
 * backend's own event loop.
 */
public final class ScriptedBackend implements AutoCloseable {
    /** How the backend treats the next request. */
    public enum Fault {
        NONE, HANG, ERROR_5XX, RESET_HALF
    }

    private final String name;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Map<String, AtomicInteger> requestsByRoute = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger holding = new AtomicInteger();
    private final AtomicInteger maxHolding = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
    private final AtomicInteger healthChecks = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger hung = new AtomicInteger();
    private final AtomicInteger resetsMidResponse = new AtomicInteger();
    private final AtomicInteger resetsBeforeResponse = new AtomicInteger();
    private final AtomicLong faultSequence = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Set<String> idempotencyKeys = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Long> loadSeqs = new ConcurrentLinkedQueue<>();
    private final int port;
    private volatile Channel server;
    private volatile Fault fault = Fault.NONE;
    private volatile int status = 200;
    private volatile int bodyBytes;
    private volatile double load = 0.1;
    private volatile int healthStatus = 200;
    private volatile long delayMillis;
    private volatile boolean hold;
    private volatile ScheduledFuture<?> flapping;

    private ScriptedBackend(String name, int port) throws InterruptedException {
        this.name = requireNonNull(name, "name");
        this.server = bind(port).sync().channel();
        this.port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Starts a backend on a free port. */
    public static ScriptedBackend start(String name) throws InterruptedException {
        return new ScriptedBackend(name, 0);
    }

    public String name() {
        return name;
    }

    /** The port, the same across kills and restarts. */
    public int port() {
        return port;
    }

    public ScriptedBackend fault(Fault f) {
        this.fault = requireNonNull(f, "f");
        return this;
    }

    /** The status of answers when no fault applies. */
    public int status() {
        return status;
    }

    public ScriptedBackend status(int s) {
        this.status = s;
        return this;
    }

    /** Length of every answer's body; at least the name. */
    public int bodyBytes() {
        return Math.max(bodyBytes, name.length());
    }

    public ScriptedBackend bodyBytes(int n) {
        this.bodyBytes = n;
        return this;
    }

    /** The load reported in the health answer. */
    public ScriptedBackend load(double l) {
        this.load = l;
        return this;
    }

    /** The status of health answers. */
    public ScriptedBackend healthStatus(int s) {
        this.healthStatus = s;
        return this;
    }

    /** Answers (those without a fault) only after this delay, scheduled on the event loop. */
    public ScriptedBackend delay(Duration d) {
        this.delayMillis = d.toMillis();
        return this;
    }

    /**
     * While on, every request is held unanswered until {@link #release()}; turning it off does not
     * answer the requests already held.
     */
    public ScriptedBackend hold(boolean on) {
        this.hold = on;
        return this;
    }

    /** Answers every request held so far, with the status in force now. */
    public void release() {
        Runnable r;
        while ((r = held.poll()) != null) {
            r.run();
        }
    }

    /** Requests answered (faults aside). */
    public int answered() {
        return answered.get();
    }

    /** Requests received and not yet answered, while a delay or {@link #hold} keeps them. */
    public int holding() {
        return holding.get();
    }

    /** The most requests held at once since start. */
    public int maxHolding() {
        return maxHolding.get();
    }

    /** The body of every normal answer: the name, then dots up to {@link #bodyBytes()}. */
    public byte[] expectedBody() {
        byte[] b = new byte[bodyBytes()];
        Arrays.fill(b, (byte) '.');
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, b, 0, n.length);
        return b;
    }

    /** Requests received other than health checks. */
    public int requests() {
        return requests.get();
    }

    /** Requests received for one route, e.g. {@code requests("POST", "/posts")}. */
    public int requests(String method, String path) {
        AtomicInteger n = requestsByRoute.get(method + " " + path);
        return n == null ? 0 : n.get();
    }

    public int healthChecks() {
        return healthChecks.get();
    }

    /** TCP connections accepted so far (health checks included). */
    public int connectionsAccepted() {
        return accepted.get();
    }

    /** Connections open now. */
    public int connectionsOpen() {
        return connections.size();
    }

    /** Requests received under {@link Fault#HANG}, never answered. */
    public int hungRequests() {
        return hung.get();
    }

    public int resetsMidResponse() {
        return resetsMidResponse.get();
    }

    public int resetsBeforeResponse() {
        return resetsBeforeResponse.get();
    }

    /** The {@code Idempotency-Key}s of the requests received. */
    public Set<String> idempotencyKeys() {
        return Set.copyOf(idempotencyKeys);
    }

    /** The {@code X-Load-Seq} numbers of the requests received, in arrival order. */
    public List<Long> loadSeqs() {
        return List.copyOf(loadSeqs);
    }

    /** Whether the listening socket is open. */
    public boolean up() {
        return server.isOpen();
    }

    /** Closes the listening socket and resets every open connection. Idempotent. */
    public void kill() {
        server.close().syncUninterruptibly();
        resetAll();
    }

    /** Listens on the same port again after {@link #kill()}. */
    public void restart() throws InterruptedException {
        if (!server.isOpen()) {
            server = bind(port).sync().channel();
        }
    }

    /**
     * Kills and restarts the backend every {@code period}, on its own event loop, until
     * {@link #stopFlapping()}; it starts with a kill.
     */
    public void flap(Duration period) {
        requireNonNull(period, "period");
        flapping = group.next().scheduleAtFixedRate(this::toggle, 0, period.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Stops flapping and leaves the backend up. */
    public void stopFlapping() throws InterruptedException {
        ScheduledFuture<?> f = flapping;
        if (f != null) {
            f.cancel(false);
            f.awaitUninterruptibly();
        }
        restart();
    }

    private void toggle() {
        if (server.isOpen()) {
            server.close();
            resetAll();
        } else {
            bind(port).addListener(f -> {
                if (f.isSuccess()) {
                    server = ((ChannelFuture) f).channel();
                }
            });
        }
    }

    private void resetAll() {
        for (Channel c : connections) {
            reset(c);
        }
    }

    /** Closes with SO_LINGER 0, so that the peer gets a RST rather than a FIN. */
    private static void reset(Channel c) {
        c.config().setOption(ChannelOption.SO_LINGER, 0);
        c.close();
    }

    private ChannelFuture bind(int p) {
        return new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.incrementAndGet();
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind("127.0.0.1", p);
    }

    /** Stops the backend for good: listener and connections closed, event loop shut down. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> f = flapping;
        if (f != null) {
            f.cancel(false);
        }
        server.close().syncUninterruptibly();
        connections.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    public String toString() {
        return name + "(:" + port + ", " + requests() + " requests)";
    }

    /** Per-connection request handling; confined to the backend's event loop. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri();
            int q = path.indexOf('?');
            String bare = q < 0 ? path : path.substring(0, q);
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (bare.equals("/health")) {
                healthChecks.incrementAndGet();
                byte[] body = ("{\"status\":\"UP\",\"node\":\"" + name + "\",\"load\":" + load + "}")
                        .getBytes(StandardCharsets.UTF_8);
                write(ctx, healthStatus, body, keepAlive, "application/json");
                return;
            }
            requests.incrementAndGet();
            requestsByRoute.computeIfAbsent(request.method().name() + " " + bare, k -> new AtomicInteger())
                    .incrementAndGet();
            String key = request.headers().get("Idempotency-Key");
            if (key != null) {
                idempotencyKeys.add(key);
            }
            String seq = request.headers().get(HttpLoad.SEQ_HEADER);
            if (seq != null) {
                loadSeqs.add(Long.parseLong(seq));
            }
            switch (fault) {
                case HANG -> hung.incrementAndGet(); // read, never answer: open until the peer gives up
                case ERROR_5XX -> write(ctx, 503, expectedBody(), keepAlive, "text/plain");
                case RESET_HALF -> resetHalf(ctx, keepAlive, path.contains("chunked=true"));
                default -> answer(ctx, keepAlive);
            }
        }

        /** Answers once released and after the delay, never blocking the event loop. */
        private void answer(ChannelHandlerContext ctx, boolean keepAlive) {
            maxHolding.accumulateAndGet(holding.incrementAndGet(), Math::max);
            Runnable respond = () -> {
                // Counted before the write: the balancer sees the answer only after this point,
                // so "holding" never lags behind what the balancer believes is in flight here.
                holding.decrementAndGet();
                answered.incrementAndGet();
                write(ctx, status, expectedBody(), keepAlive, "text/plain");
            };
            long delay = delayMillis;
            if (hold) {
                held.add(() -> ctx.executor().execute(respond));
            } else if (delay > 0) {
                ctx.executor().schedule(respond, delay, TimeUnit.MILLISECONDS);
            } else {
                respond.run();
            }
        }

        private void resetHalf(ChannelHandlerContext ctx, boolean keepAlive, boolean chunked) {
            long n = faultSequence.getAndIncrement() % 4;
            if (n == 0) {
                write(ctx, status, expectedBody(), keepAlive, "text/plain");
            } else if (n == 2) {
                resetsBeforeResponse.incrementAndGet();
                reset(ctx.channel());
            } else {
                resetsMidResponse.incrementAndGet();
                byte[] body = expectedBody();
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain").set("X-Backend-Name", name);
                if (chunked) {
                    HttpUtil.setTransferEncodingChunked(head, true);
                } else {
                    HttpUtil.setContentLength(head, body.length);
                }
                ctx.write(head);
                ByteBuf half = Unpooled.wrappedBuffer(body, 0, body.length / 2);
                ctx.writeAndFlush(new DefaultHttpContent(half)).addListener(f -> reset(ctx.channel()));
            }
        }

        private void write(ChannelHandlerContext ctx, int code, byte[] body, boolean keepAlive, String type) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(code), Unpooled.wrappedBuffer(body));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set("X-Backend-Name", name);
            HttpUtil.setContentLength(response, body.length);
            HttpUtil.setKeepAlive(response, keepAlive);
            ChannelFuture written = ctx.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
