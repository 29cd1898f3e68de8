package io.fulcrum.balancer.routing.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal blocking HTTP/1.1 client on one keep-alive connection, reconnecting when the server
 * closes it. Much lighter than {@link java.net.http.HttpClient}, so that many of them leave CPU to
 * the balancer under test. Understands only what the balancer sends: a status line, headers, and a
 * body framed by Content-Length. Confined to one thread.
 */
final class KeepAliveClient implements AutoCloseable {
    /** One response: status, the headers the tests look at, body as text. */
    record Response(int status, String retryAfter, String body) {
    }

    private final int port;
    private final byte[] request;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    KeepAliveClient(int port, Map<String, String> headers) {
        this.port = port;
        StringBuilder sb = new StringBuilder("GET /e2e HTTP/1.1\r\nHost: 127.0.0.1:").append(port).append("\r\n");
        headers.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        this.request = sb.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Sends one GET and reads its response. */
    Response get() throws IOException {
        if (socket == null) {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) E2eFixtures.REQUEST_TIMEOUT.toMillis());
            socket.connect(new InetSocketAddress("127.0.0.1", port), (int) E2eFixtures.REQUEST_TIMEOUT.toMillis());
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }
        try {
            out.write(request);
            out.flush();
            return read();
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private Response read() throws IOException {
        String statusLine = line();
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        int length = 0;
        boolean close = false;
        String retryAfter = null;
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Integer.parseInt(value);
                case "connection" -> close = value.equalsIgnoreCase("close");
                case "retry-after" -> retryAfter = value;
                case "transfer-encoding" -> throw new IOException("chunked responses are not expected here");
                default -> { }
            }
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new IOException("connection closed in the body");
        }
        if (close) {
            close();
        }
        return new Response(status, retryAfter, new String(body, StandardCharsets.UTF_8));
    }

    private String line() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(64);
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                buf.write(c);
            }
        }
        return buf.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Nothing to recover: the connection is being dropped anyway.
            }
            socket = null;
        }
    }
}
