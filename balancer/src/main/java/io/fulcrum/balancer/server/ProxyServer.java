package io.fulcrum.balancer.server;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ListenConfig;
import io.fulcrum.balancer.connections.ConnectionPool;
import io.fulcrum.balancer.connections.BackendConnections;
import io.fulcrum.balancer.connections.Http2Connections;
import io.fulcrum.balancer.connections.PerLoopConnectionPool;
import io.fulcrum.balancer.connections.Transport;
import io.fulcrum.balancer.edge.ConnectionEvents;
import io.fulcrum.balancer.exchange.BackendChannelInitializer;
import io.fulcrum.balancer.exchange.BackendStreamInitializer;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.tls.BackendTls;
import io.fulcrum.balancer.tls.TlsTerminator;
import io.fulcrum.config.Durations;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The traffic port: binds {@code listen}, accepts client connections on the worker loops and
 * opens backend connections on the same loops. {@link #start()} and {@link #stop} are called from
 * the main (control) thread; everything else runs on the event loops.
 */
public final class ProxyServer {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);
    /** Idle backend connections kept per backend and event loop. */
    private static final int MAX_IDLE_PER_LOOP = 256;
    /**
     * Netty's pooled allocator: on the proxy's pattern (small request and response heads, buffers
     * released on the same loop soon after) the adaptive default of Netty 4.2 spent about 9% of
     * the event loops' time in its shared queues (docs/benchmarks.md).
     */
    private static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    private final BalancerConfig config;
    private final ProxyContext proxy;
    private final Transport transport;
    private final EventLoopGroup workerGroup;
    private Channel serverChannel;
    private Channel tlsChannel;
    private TlsTerminator tls;

    /**
     * @param workerGroup the event loops that serve client and backend connections; a listener is
     *     registered on one of them and accepts there, as nginx's and HAProxy's workers do: a
     *     connection that loop keeps starts without a hand-off to another thread, and no thread
     *     of its own wakes for each new connection
     */
    public ProxyServer(BalancerConfig config, ProxyContext proxy, Transport transport, EventLoopGroup workerGroup) {
        this.config = requireNonNull(config, "config");
        this.proxy = requireNonNull(proxy, "proxy");
        this.transport = requireNonNull(transport, "transport");
        this.workerGroup = requireNonNull(workerGroup, "workerGroup");
    }

    /**
     * The pool of backend connections for {@code config}: channel options, connect timeout and the
     * backend pipeline ({@link BackendChannelInitializer}). Connections open on the caller's loop.
     */
    public static ConnectionPool backendPool(BalancerConfig config, Transport transport) {
        Bootstrap backends = new Bootstrap()
                .channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOCATOR, ALLOCATOR)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.timeouts().connect().toMillis());
        long idleNanos = config.timeouts().backendIdle().toNanos();
        BackendTls tls = new BackendTls(config.backendTls());
        ConnectionPool http1 = new PerLoopConnectionPool(backends.clone()
                .handler(new BackendChannelInitializer(idleNanos, tls)), MAX_IDLE_PER_LOOP);
        Http2Connections h2 = new Http2Connections(backends, (alloc, host, port) -> tls.newHandler(alloc, host, port, true),
                new BackendStreamInitializer(idleNanos), idleNanos);
        return new BackendConnections(http1, h2);
    }

    /**
     * Binds the listen address, and the TLS listener when the config has one; throws if either
     * cannot be bound or the certificates cannot be used.
     */
    public void start() throws InterruptedException, SSLException {
        serverChannel = bind(config.listen(), null);
        log.info("listening on {} ({})", serverChannel.localAddress(), transport.name());
        if (config.tls() != null) {
            tls = new TlsTerminator(config.tls(), config.http2().enabled());
            tlsChannel = bind(config.tls().listen(), tls);
            log.info("listening for HTTPS on {}", tlsChannel.localAddress());
        }
    }

    private Channel bind(ListenConfig listen, TlsTerminator terminator) throws InterruptedException {
        ServerBootstrap server = transport.reusePort(new ServerBootstrap())
                .group(workerGroup, workerGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                // TCP_NODELAY is not set again here: Netty's socket channels turn it on as they are
                // created (epoll, io_uring and NIO alike), and a second setsockopt per accepted
                // connection would only cost a system call.
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ProxyServerInitializer(proxy, config, terminator));
        return server.bind(listen.host(), listen.port()).sync().channel();
    }

    /** The HTTPS listener's certificates, or {@code null} when there is no TLS listener. */
    public TlsTerminator tls() {
        return tls;
    }

    /** The bound TLS port (useful with port 0), or -1 when there is no TLS listener. */
    public int tlsPort() {
        return tlsChannel == null ? -1 : ((InetSocketAddress) tlsChannel.localAddress()).getPort();
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * Graceful stop: stop accepting, close idle client connections, let requests in progress
     * finish for up to {@code drain}, then close everything. Blocks the calling (control) thread.
     */
    public void stop(Duration drain) throws InterruptedException {
        if (serverChannel != null) {
            serverChannel.close().await(5, TimeUnit.SECONDS);
        }
        if (tlsChannel != null) {
            tlsChannel.close().await(5, TimeUnit.SECONDS);
        }
        proxy.startDraining();
        proxy.clientChannels().forEach(ch -> ch.pipeline().fireUserEventTriggered(ConnectionEvents.DRAIN));
        long deadline = System.nanoTime() + drain.toNanos();
        while (proxy.clientConnections() > 0 && System.nanoTime() < deadline) {
            // The control thread may wait; event loops never do.
            TimeUnit.MILLISECONDS.sleep(20);
        }
        if (proxy.clientConnections() > 0 && !drain.isZero()) {
            log.warn("drain period of {} over: closing {} client connections still open", Durations.format(drain),
                    proxy.clientConnections());
        }
        proxy.clientChannels().close().await(5, TimeUnit.SECONDS);
        proxy.pool().closeAll();
    }
}
