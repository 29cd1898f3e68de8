package io.fulcrum.balancer.resilience;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One client connection speaking HTTP/1.1 by hand, so a test sees exactly what reached the wire:
 * the status, whether the body was complete, and whether the connection is still usable for the
 * next request. Not thread safe.
 */
final class RawHttpConnection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;

    RawHttpConnection(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        in = new BufferedInputStream(socket.getInputStream());
    }

    /** A response as read; {@code complete} is false when the connection ended inside the body. */
    record Response(int status, Map<String, String> headers, String body, boolean complete) {
    }

    Response get(String path) throws IOException {
        socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return read();
    }

    /** Whether the peer closed the connection (the next read sees the end of the stream). */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (java.net.SocketException e) {
            return true; // reset
        }
    }

    private Response read() throws IOException {
        String statusLine = line();
        if (statusLine == null) {
            throw new EOFException("connection closed before a response");
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new HashMap<>();
        String h;
        while ((h = line()) != null && !h.isEmpty()) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean complete;
        try {
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                complete = readChunked(body);
            } else {
                int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
                complete = readFully(body, length);
            }
        } catch (java.net.SocketException | NumberFormatException e) {
            complete = false;
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8), complete);
    }

    private boolean readChunked(ByteArrayOutputStream body) throws IOException {
        while (true) {
            String size = line();
            if (size == null) {
                return false;
            }
            int n = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (n == 0) {
                while ((size = line()) != null && !size.isEmpty()) {
                    // trailers
                }
                return size != null;
            }
            if (!readFully(body, n) || line() == null) {
                return false;
            }
        }
    }

    private boolean readFully(ByteArrayOutputStream body, int length) throws IOException {
        for (int i = 0; i < length; i++) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            body.write(b);
        }
        return true;
    }

    /** One CRLF-terminated line, or null at the end of the stream. */
    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            sb.append((char) b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
