package io.fulcrum.balancer.websocket;

import io.fulcrum.testing.BlockingListener;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;

/**
 * A WebSocket backend on plain sockets, one thread per connection, for byte-exact tests: it reads
 * the opening handshake and hands the connection to a {@link Session}, which answers it (usually
 * with {@link #switching}) and then reads and writes raw frames. Listens on 127.0.0.1 and an
 * ephemeral port, over TLS when started with a context.
 *
 * <p>Thread-safe; a session's failure is kept and reported by {@link #failures()}.
 */
final class RawWsBackend implements AutoCloseable {
    /** What the backend does with one connection once its request head is read. */
    interface Session {
        void serve(String requestHead, InputStream in, OutputStream out, Socket socket) throws Exception;
    }

    private final Session session;
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final BlockingListener listener;

    private RawWsBackend(Session session, SSLContext tls) throws IOException {
        this.session = session;
        this.listener = tls == null ? BlockingListener.start("raw-ws-backend", this::serve)
                : BlockingListener.start("raw-ws-backend", tls, this::serve);
    }

    static RawWsBackend start(Session session) throws IOException {
        return new RawWsBackend(session, null);
    }

    /** A backend that speaks TLS with {@code tls}'s certificate ({@code https://}, {@code wss://}). */
    static RawWsBackend start(Session session, SSLContext tls) throws IOException {
        return new RawWsBackend(session, tls);
    }

    int port() {
        return listener.port();
    }

    /** What sessions threw, other than the peer ending the connection or the backend closing. */
    List<Throwable> failures() {
        return failures;
    }

    /** The 101 of RFC 6455 section 4.2.2 for the key in {@code requestHead}. */
    static byte[] switching(String requestHead) {
        String key = null;
        for (String line : requestHead.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("sec-websocket-key")) {
                key = line.substring(colon + 1).trim();
            }
        }
        return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(
                    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(20_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            session.serve(RawWsClient.readHead(in), in, s.getOutputStream(), s);
        } catch (EOFException e) {
            // The peer ended the connection: how a session that reads to the end finishes.
        } catch (Exception e) {
            if (!listener.closed()) {
                failures.add(e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
