package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One listening socket of the post server and its NIO event loops: the API port, and the admin port
 * that serves {@code /metrics}.
 *
 * <p>{@link #start()} binds and returns once the socket accepts; {@link #close()} stops accepting,
 * closes connections and shuts the loops down. Both are called by the wiring thread, never on an
 * event loop (they block). Thread-safe otherwise.
 */
public final class NodeServer implements AutoCloseable {
    private final String host;
    private final int port;
    private final ChannelInitializer<SocketChannel> initializer;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private Channel channel;

    /** Creates the API server for {@code host:port} (port 0: any free port) with {@code ioThreads} loops. */
    public NodeServer(String host, int port, int ioThreads, NodeServerInitializer initializer) {
        this(host, port, ioThreads, initializer, "node");
    }

    /**
     * Creates a server for {@code host:port} (port 0: any free port) with {@code ioThreads} loops, whose
     * threads are named after {@code name}.
     */
    public NodeServer(String host, int port, int ioThreads, ChannelInitializer<SocketChannel> initializer,
            String name) {
        this.host = requireNonNull(host, "host");
        this.port = port;
        this.initializer = requireNonNull(initializer, "initializer");
        // NIO keeps the node portable; the store, not the socket layer, bounds its throughput.
        IoHandlerFactory factory = NioIoHandler.newFactory();
        this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name + "-accept"), factory);
        this.workers = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory(name + "-io"), factory);
    }

    /** Binds the socket and returns the port it listens on. */
    public synchronized int start() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(initializer);
        channel = b.bind(new InetSocketAddress(host, port)).sync().channel();
        return boundPort();
    }

    /** The port the server listens on. */
    public synchronized int boundPort() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /**
     * Stops accepting new connections; connections already open keep being served until
     * {@link #close()}. The first step of a drain.
     */
    public synchronized void stopAccepting() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public synchronized void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
