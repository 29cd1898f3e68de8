package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;

/**
 * The listening half of a backend written on plain blocking sockets, for tests that need every
 * byte under their control: it listens on 127.0.0.1 and an ephemeral port (over TLS when given a
 * context) and hands each accepted connection to {@code serve} on a daemon thread of its own.
 * Closing it closes the listener and every connection it accepted.
 *
 * <p>Thread-safe.
 */
public final class BlockingListener implements AutoCloseable {
    /** What the backend does with one accepted connection, on that connection's thread. */
    @FunctionalInterface
    public interface Connection {
        void serve(Socket socket);
    }

    private final ServerSocket server;
    private final Connection serve;
    private final String name;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private BlockingListener(String name, SSLContext tls, Connection serve) throws IOException {
        this.name = requireNonNull(name, "name");
        this.serve = requireNonNull(serve, "serve");
        this.server = tls == null ? new ServerSocket(0, 50, InetAddress.getLoopbackAddress())
                : tls.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon(this::acceptLoop, name + "-" + server.getLocalPort());
    }

    /** Listens in clear text; threads are named after {@code name}. */
    public static BlockingListener start(String name, Connection serve) throws IOException {
        return new BlockingListener(name, null, serve);
    }

    /** Listens over TLS with {@code tls}'s certificate. */
    public static BlockingListener start(String name, SSLContext tls, Connection serve) throws IOException {
        return new BlockingListener(name, requireNonNull(tls, "tls"), serve);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Whether {@link #close()} was called. */
    public boolean closed() {
        return server.isClosed();
    }

    /** Connections accepted so far. */
    public int accepted() {
        return sockets.size();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                daemon(() -> serve.serve(s), name + "-conn");
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void daemon(Runnable task, String threadName) {
        Thread t = new Thread(task, threadName);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
