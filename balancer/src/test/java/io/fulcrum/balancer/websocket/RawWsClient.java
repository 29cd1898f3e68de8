package io.fulcrum.balancer.websocket;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A WebSocket client on a plain socket (or a TLS one), for the tests that need every byte under
 * control: it writes the opening handshake of RFC 6455 section 4.1 itself and reads frames with
 * {@link WsFrame}. Reads time out after 20 seconds, so a missing byte fails a test instead of
 * hanging it.
 *
 * <p>Not thread safe: one test thread.
 */
final class RawWsClient implements AutoCloseable {
    /** The sample key of RFC 6455 section 1.3; the backends here answer whatever key they get. */
    static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawWsClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(20_000);
        socket.setTcpNoDelay(true);
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Connects to 127.0.0.1:{@code port}, over TLS when {@code tls} is not {@code null}. */
    static RawWsClient connect(int port, SSLContext tls) throws IOException {
        if (tls == null) {
            return new RawWsClient(new Socket(InetAddress.getLoopbackAddress(), port));
        }
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        SSLParameters params = s.getSSLParameters();
        params.setApplicationProtocols(new String[] {"http/1.1"});
        s.setSSLParameters(params);
        s.startHandshake();
        return new RawWsClient(s);
    }

    /** Sends the opening handshake for {@code path} and returns the response head that came back. */
    String upgrade(String path) throws IOException {
        send(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return readHead();
    }

    /** The bytes up to and including the first empty line, as ISO-8859-1 text. */
    String readHead() throws IOException {
        return readHead(in);
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed inside a head: " + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(WsFrame frame) throws IOException {
        send(frame.wire());
    }

    WsFrame readFrame() throws IOException {
        return WsFrame.read(in);
    }

    /** Reads exactly {@code n} bytes. */
    byte[] read(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new EOFException("got " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /** Reads until the balancer closes the connection; what came before. */
    byte[] readToEnd() throws IOException {
        return in.readAllBytes();
    }

    /** Closes the write side only (TCP FIN; over TLS, close_notify first). */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
