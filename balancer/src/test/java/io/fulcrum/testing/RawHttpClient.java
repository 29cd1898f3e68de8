package io.fulcrum.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A raw-socket HTTP/1.1 client for tests that must send exact bytes (smuggling attempts, malformed
 * requests, pipelining) and see exactly what comes back, including whether the peer closed the
 * connection. Reads time out after the socket timeout given at connect. Not thread safe.
 */
public final class RawHttpClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /**
     * A parsed response: status code, headers (names lower-cased, all values) and the body;
     * {@code complete} is false when the connection ended inside the body (the body is then empty).
     */
    public record Response(String statusLine, int status, Map<String, List<String>> headers, byte[] body,
            boolean complete) {
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        public List<String> headers(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private RawHttpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to 127.0.0.1:{@code port}; every read gives up after {@code timeoutMillis}. */
    public static RawHttpClient connect(int port, int timeoutMillis) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(timeoutMillis);
        s.setTcpNoDelay(true);
        return new RawHttpClient(s);
    }

    /**
     * Connects to 127.0.0.1:{@code port} with a receive buffer of {@code receiveBufferBytes}, set
     * before the connect so that the TCP window it offers is that small: a client that then stops
     * reading pushes back on the peer soon.
     */
    public static RawHttpClient connect(int port, int timeoutMillis, int receiveBufferBytes) throws IOException {
        Socket s = new Socket();
        try {
            s.setReceiveBufferSize(receiveBufferBytes);
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout(timeoutMillis);
            s.setTcpNoDelay(true);
            return new RawHttpClient(s);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Connects to 127.0.0.1:{@code port} from {@code localAddress}, another loopback address such
     * as 127.0.0.2, so that a test can be a second peer.
     */
    public static RawHttpClient connectFrom(String localAddress, int port, int timeoutMillis) throws IOException {
        Socket s = new Socket(java.net.InetAddress.getByName("127.0.0.1"), port,
                java.net.InetAddress.getByName(localAddress), 0);
        s.setSoTimeout(timeoutMillis);
        s.setTcpNoDelay(true);
        return new RawHttpClient(s);
    }

    public RawHttpClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttpClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Sends {@code GET path} with a Host header and reads the response. */
    public Response get(String path) throws IOException {
        return send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readResponse();
    }

    /**
     * Sends {@code GET path} and reads the response; one cut inside its body comes back with
     * {@link Response#complete()} false instead of as an exception.
     */
    public Response getAllowingCut(String path) throws IOException {
        try {
            return get(path);
        } catch (TruncatedResponseException e) {
            return e.head();
        }
    }

    public OutputStream output() {
        return out;
    }

    public InputStream input() {
        return in;
    }

    /**
     * Starts TLS on this connection (after whatever was sent in clear, e.g. a PROXY protocol
     * header) with a client trusting {@code context}, server name {@code host}, offering
     * {@code alpn} if any, and returns the client that speaks over it; closing either closes the
     * connection.
     */
    public RawHttpClient startTls(SSLContext context, String host, String... alpn) throws IOException {
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, host, socket.getPort(), true);
        if (alpn.length > 0) {
            SSLParameters params = tls.getSSLParameters();
            params.setApplicationProtocols(alpn);
            tls.setSSLParameters(params);
        }
        tls.startHandshake();
        return new RawHttpClient(tls);
    }

    /** Half-closes the sending side (the peer sees end of stream). */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * Reads one response. The body is framed by Content-Length, chunked encoding, or the close of
     * the connection; responses to HEAD must be read with {@link #readResponse(boolean)}.
     *
     * @throws TruncatedResponseException when the connection ends inside the body
     * @throws IOException also when the connection ends before a complete status line and headers
     */
    public Response readResponse() throws IOException {
        return readResponse(false);
    }

    public Response readResponse(boolean headRequest) throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            throw new IOException("connection closed before a response");
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while ((line = readLine()) != null && !line.isEmpty()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        if (line == null) {
            throw new IOException("connection closed inside the response headers");
        }
        try {
            return new Response(statusLine, status, headers, readBody(status, headers, headRequest), true);
        } catch (IOException e) {
            throw new TruncatedResponseException(new Response(statusLine, status, headers, new byte[0], false), e);
        }
    }

    private byte[] readBody(int status, Map<String, List<String>> headers, boolean headRequest) throws IOException {
        byte[] body;
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        if (headRequest || status / 100 == 1 || status == 204 || status == 304) {
            body = new byte[0];
        } else if (te != null && te.get(te.size() - 1).toLowerCase(Locale.ROOT).endsWith("chunked")) {
            body = readChunked();
        } else if (cl != null) {
            body = readFully(Integer.parseInt(cl.get(0)));
        } else {
            body = in.readAllBytes();
        }
        return body;
    }

    /**
     * The connection ended, or failed, inside a response body: the head had arrived, so the
     * response had visibly begun, and it was cut before its framing said it was complete.
     */
    public static final class TruncatedResponseException extends IOException {
        private final transient Response head;

        TruncatedResponseException(Response head, IOException cause) {
            super("response '" + head.statusLine() + "' cut: " + cause.getMessage(), cause);
            this.head = head;
        }

        public String statusLine() {
            return head.statusLine();
        }

        /** The status and headers that arrived, without a body, {@code complete} false. */
        public Response head() {
            return head;
        }
    }

    /**
     * Whether the peer has closed the connection: reads until end of stream (discarding anything)
     * and answers {@code true}, or {@code false} when the socket timeout passes first.
     */
    public boolean isClosedByPeer() throws IOException {
        byte[] sink = new byte[8192];
        try {
            while (in.read(sink) >= 0) {
                // drain whatever is left (e.g. the end of a truncated response)
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            // connection reset: closed as well
            return true;
        }
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine();
            if (sizeLine == null) {
                throw new IOException("connection closed inside a chunked body");
            }
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            if (size == 0) {
                String trailer;
                while ((trailer = readLine()) != null && !trailer.isEmpty()) {
                    // trailers are ignored
                }
                return body.toByteArray();
            }
            body.write(readFully(size));
            readLine();
        }
    }

    private byte[] readFully(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new IOException("connection closed after " + b.length + " of " + n + " body bytes");
        }
        return b;
    }

    /** A CRLF- (or LF-) terminated line without its terminator, or null at end of stream. */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] b = line.toByteArray();
                int len = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
                return new String(b, 0, len, StandardCharsets.ISO_8859_1);
            }
            line.write(c);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
