package io.fulcrum.balancer.connections;

import io.netty.bootstrap.ServerBootstrap;
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
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Locale;

/**
 * The socket transport every listener and backend connection of one balancer uses: io_uring where
 * the kernel allows it (not an old kernel, nor io_uring turned off by
 * {@code kernel.io_uring_disabled} or a container's seccomp profile), else epoll on Linux, else NIO,
 * unless the config names one. io_uring submits a loop's reads and writes in one system call and
 * takes their completions from a shared ring, where epoll pays a {@code read} or {@code write} call
 * for each; HAProxy and nginx use epoll. Immutable.
 *
 * @param name {@code io_uring}, {@code epoll} or {@code nio}: in the start log, on the status page
 *     and as the {@code transport} tag of {@code fulcrum.config.info}
 * @param note why {@code auto} did not take a faster transport, or {@code null}
 */
public record Transport(String name, IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel, Class<? extends Channel> socketChannel, String note) {

    /** The system property that overrides the configured transport (tests, a quick check on one host). */
    public static final String PROPERTY = "fulcrum.transport";

    /**
     * Netty's switch for multishot {@code POLLIN} polls on io_uring sockets (on by default), which
     * this class turns off unless the command line sets it.
     *
     * <p>Why: a multishot poll completes once per wakeup, as an edge-triggered epoll would, and
     * Netty's io_uring channel (4.2.18) answers a {@code POLLIN} or {@code POLLRDHUP} completion
     * that arrives while one of its {@code recv}s is already scheduled with no read of its own,
     * trusting that {@code recv} to find what woke the poll. When a peer's last bytes and its
     * reset (or FIN) arrive together, that {@code recv} takes the bytes and reports the socket
     * empty ({@code IORING_CQE_F_SOCK_NONEMPTY} counts queued bytes, not a pending error or end of
     * stream), so the next {@code read()} waits on the still-armed multishot poll for a wakeup
     * that never comes, and the channel never learns of the reset. A backend that reset in the
     * middle of a response thus left its client waiting for the rest of the body until the
     * client's own timeout, instead of seeing the cut response end. A one-shot poll is armed anew
     * for each read and completes at once on a socket already readable, reset or shut down, so no
     * such event is lost; it costs one more submission per read that drains a socket. Epoll and NIO
     * do not read it.
     */
    static final String IO_URING_MULTISHOT_POLL_PROPERTY = "io.netty.iouring.pollAddMultishotEnabled";

    /**
     * Gives Netty's io_uring transport its poll mode, unless the command line did. Called before
     * anything here touches {@code io.netty.channel.uring.IoUring}, which reads it once when it
     * loads; a balancer that never considers io_uring leaves the JVM's properties alone.
     */
    private static void oneShotPolls() {
        if (System.getProperty(IO_URING_MULTISHOT_POLL_PROPERTY) == null) {
            System.setProperty(IO_URING_MULTISHOT_POLL_PROPERTY, "false");
        }
    }

    /** What the config asks for. */
    public enum Kind {
        /** io_uring, else epoll, else NIO: the fastest this host allows ({@link Transport#auto()}). */
        AUTO,
        IO_URING,
        EPOLL,
        NIO;

        /** The name in the config file: {@code auto}, {@code io_uring}, {@code epoll}, {@code nio}. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The kind named {@code name} in the config file, or {@code null}. */
        public static Kind of(String name) {
            for (Kind k : values()) {
                if (k.yamlName().equals(name)) {
                    return k;
                }
            }
            return null;
        }
    }

    /**
     * The transport for {@code configured}, unless the {@value #PROPERTY} system property names
     * another.
     *
     * @throws IllegalStateException when the transport asked for by name cannot run here, with
     *     the reason the native library gave
     */
    public static Transport choose(Kind configured) {
        String property = System.getProperty(PROPERTY);
        Kind kind = property == null || property.isBlank() ? configured : Kind.of(property.trim());
        if (kind == null) {
            throw new IllegalStateException("-D" + PROPERTY + "=" + property + ": expected one of auto, io_uring, epoll, nio");
        }
        return switch (kind) {
            case IO_URING -> {
                if (!ioUringAvailable()) {
                    throw new IllegalStateException("transport io_uring is not available here: "
                            + IoUring.unavailabilityCause() + " (transport: auto falls back to epoll)");
                }
                yield ioUring();
            }
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("transport epoll is not available here: "
                            + Epoll.unavailabilityCause() + " (transport: auto falls back to nio)");
                }
                yield epoll(null);
            }
            case NIO -> nio(null);
            case AUTO -> auto();
        };
    }

    /**
     * Whether io_uring can run here. Ask here rather than {@link IoUring#isAvailable()}, so the
     * settings this class gives Netty's io_uring transport are in place before it loads.
     */
    public static boolean ioUringAvailable() {
        oneShotPolls();
        return IoUring.isAvailable();
    }

    /** Why io_uring cannot run here, or {@code null}; see {@link #ioUringAvailable()}. */
    public static Throwable ioUringUnavailabilityCause() {
        oneShotPolls();
        return IoUring.unavailabilityCause();
    }

    /**
     * io_uring where the kernel allows it, else epoll, else NIO. Netty 4.2.18's io_uring channel
     * runs here with one-shot polls (see {@link #IO_URING_MULTISHOT_POLL_PROPERTY}), and every
     * socket the balancer reads from behind an {@link IoUringCloseGuard}: without them a reset
     * right behind a backend's last bytes, or a socket closed from inside a read while a write was
     * in flight, went unseen.
     */
    private static Transport auto() {
        if (ioUringAvailable()) {
            return ioUring();
        }
        String why = "io_uring unavailable: " + IoUring.unavailabilityCause();
        if (Epoll.isAvailable()) {
            return epoll(why);
        }
        return nio(why + "; epoll unavailable: " + Epoll.unavailabilityCause());
    }

    /** io_uring is always the first choice, so nothing needs explaining. */
    private static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, null);
    }

    private static Transport epoll(String note) {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, note);
    }

    private static Transport nio(String note) {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                note);
    }

    /** A new group of {@code threads} named event loops. */
    public EventLoopGroup newGroup(String threadName, int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadName, true), ioHandlerFactory);
    }

    /**
     * Has {@code server}'s listening sockets bound with {@code SO_REUSEPORT}, so that a new balancer
     * process can bind the same address while this one still holds it, and the kernel shares new
     * connections between the two until this one closes its socket: a restart without a moment in
     * which connections are refused. With NIO only where the JDK offers the option (Linux, macOS).
     */
    public ServerBootstrap reusePort(ServerBootstrap server) {
        if (!"nio".equals(name)) {
            return server.option(UnixChannelOption.SO_REUSEPORT, true);
        }
        return NIO_REUSE_PORT ? server.option(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true) : server;
    }

    private static final boolean NIO_REUSE_PORT = nioReusePort();

    private static boolean nioReusePort() {
        try (ServerSocketChannel ch = ServerSocketChannel.open()) {
            return ch.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
