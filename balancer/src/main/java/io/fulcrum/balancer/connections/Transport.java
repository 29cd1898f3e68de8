package io.fulcrum.balancer.connections;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The socket transport: native epoll where available (Linux), NIO elsewhere. Immutable.
 *
 * @param name {@code epoll} or {@code nio}
 */
public record Transport(String name, IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel, Class<? extends Channel> socketChannel) {

    /** Epoll when the native library loads, unless {@code fulcrum.transport=nio} is set. */
    public static Transport detect() {
        if (!"nio".equals(System.getProperty("fulcrum.transport")) && Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class);
        }
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    /** A new group of {@code threads} named event loops. */
    public EventLoopGroup newGroup(String threadName, int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadName, true), ioHandlerFactory);
    }
}
