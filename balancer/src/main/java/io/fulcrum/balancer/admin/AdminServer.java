package io.fulcrum.balancer.admin;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.ListenConfig;
import io.fulcrum.balancer.connections.Transport;
import io.fulcrum.balancer.metrics.RequestMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin port: health, readiness, Prometheus metrics, the backend table, drain and enable,
 * config reload and a live status page, on {@code admin.host:admin.port} and never on the traffic
 * port. Requests are small, so they are aggregated (with a small limit) and answered by
 * {@link AdminHandler}.
 *
 * <p>Runs on its own event loop group (one thread, created and shut down by the caller), so a
 * busy traffic port cannot starve monitoring. {@link #start()} and {@link #stop()} are for the
 * control thread; {@link #setReadiness} may be called from any thread.
 */
public final class AdminServer {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    /** Admin requests carry no meaningful body; anything larger gets 413 from the aggregator. */
    private static final int MAX_CONTENT = 8 * 1024;
    private static final int MAX_HEADER_BYTES = 8 * 1024;
    private static final int IDLE_SECONDS = 60;

    private final ListenConfig address;
    /** The history's sampling timer, once started. */
    private volatile ScheduledFuture<?> sampling;
    private final AdminServices services;
    private final Transport transport;
    private final EventLoopGroup group;
    private volatile BooleanSupplier readiness = () -> true;
    private Channel serverChannel;

    public AdminServer(ListenConfig address, AdminServices services, Transport transport, EventLoopGroup group) {
        this.address = requireNonNull(address, "address");
        this.services = requireNonNull(services, "services");
        this.transport = requireNonNull(transport, "transport");
        this.group = requireNonNull(group, "group");
    }

    /**
     * An extra condition for {@code GET /ready}, on top of "at least one backend is routable";
     * health checking sets it to "the first round of checks has completed". Default: always true.
     * The supplier is called on the admin event loop and must not block.
     */
    public void setReadiness(BooleanSupplier readiness) {
        this.readiness = requireNonNull(readiness, "readiness");
    }

    /** Binds the admin address; throws if it cannot. */
    public void start() throws InterruptedException {
        RequestMetrics requests = services.proxy().requestMetrics();
        BackendHistory history = new BackendHistory(services.pools(), requests == null ? id -> null : requests::durations);
        AdminHandler handler = new AdminHandler(services, () -> readiness.getAsBoolean(), loadStatusPage(),
                isLoopback(address.host()), history);
        ServerBootstrap bootstrap = transport.reusePort(new ServerBootstrap())
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast("idle", new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                                .addLast("codec", new HttpServerCodec(4096, MAX_HEADER_BYTES, MAX_CONTENT))
                                .addLast("keep-alive", new HttpServerKeepAliveHandler())
                                .addLast("aggregator", new HttpObjectAggregator(MAX_CONTENT))
                                .addLast("admin", handler);
                    }
                });
        serverChannel = bootstrap.bind(address.host(), address.port()).sync().channel();
        // The status page's history: a sample a second on the admin loop (counters and a histogram
        // snapshot, no I/O).
        sampling = serverChannel.eventLoop().scheduleAtFixedRate(() -> history.sample(System.currentTimeMillis()), 0,
                BackendHistory.INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        log.info("admin API on http://{}:{}", bound.getHostString(), bound.getPort());
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Closes the admin port; the caller shuts the group down. */
    public void stop() throws InterruptedException {
        if (sampling != null) {
            sampling.cancel(false);
        }
        if (serverChannel != null) {
            serverChannel.close().await(5, TimeUnit.SECONDS);
        }
    }

    /** Whether {@code host} is a loopback address or a name that resolves only to loopback ones. */
    static boolean isLoopback(String host) {
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static byte[] loadStatusPage() {
        try (InputStream in = AdminServer.class.getResourceAsStream("status.html")) {
            if (in == null) {
                throw new IllegalStateException("status.html missing from the balancer jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
