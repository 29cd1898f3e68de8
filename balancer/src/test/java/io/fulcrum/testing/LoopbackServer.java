package io.fulcrum.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A Netty server on 127.0.0.1 at a port the system picks, with one event loop, whose accepted
 * connections the test sets up: a backend that needs Netty's own handlers (a WebSocket server, a
 * TLS server) rather than {@link ScriptedBackend}'s script. Closing it closes the listening
 * channel and shuts its loop down; hand it to {@link Fixtures#closeAfter} so that each test does.
 *
 * <p>{@code pipeline} runs on the server's event loop, once per accepted connection.
 *
 * @param group the server's one event loop
 * @param channel the listening channel
 * @param accepted every connection it accepted, in order; thread-safe
 */
public record LoopbackServer(EventLoopGroup group, Channel channel, List<Channel> accepted) implements AutoCloseable {
    /** Starts a server whose accepted connections {@code pipeline} fills with handlers. */
    public static LoopbackServer start(Consumer<SocketChannel> pipeline) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        List<Channel> accepted = new CopyOnWriteArrayList<>();
        try {
            Channel channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            accepted.add(ch);
                            pipeline.accept(ch);
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            return new LoopbackServer(group, channel, accepted);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
