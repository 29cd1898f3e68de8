package io.fulcrum.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend that answers every request with fixed bytes, however wrong, for testing how the
 * balancer handles protocol violations from a backend (invalid status line, conflicting
 * Content-Length, broken chunking). It reads one request head per exchange (bodies are not
 * expected), writes the canned bytes, then either closes or waits for the next request on the
 * same connection. Listens on 127.0.0.1 and an ephemeral port; one daemon thread per connection.
 *
 * <p>Thread-safe: counters are atomics.
 */
public final class RawBackend implements AutoCloseable {
    private final byte[] response;
    private final boolean closeAfterResponse;
    private final AtomicInteger requests = new AtomicInteger();
    private final BlockingListener listener;

    private RawBackend(byte[] response, boolean closeAfterResponse) throws IOException {
        this.response = response.clone();
        this.closeAfterResponse = closeAfterResponse;
        this.listener = BlockingListener.start("raw-backend", this::serve);
    }

    /**
     * @param response the exact bytes to answer each request with
     * @param closeAfterResponse whether to close the connection after answering
     */
    public static RawBackend start(String response, boolean closeAfterResponse) throws IOException {
        return new RawBackend(response.getBytes(StandardCharsets.ISO_8859_1), closeAfterResponse);
    }

    public int port() {
        return listener.port();
    }

    public int connections() {
        return listener.accepted();
    }

    public int requests() {
        return requests.get();
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            while (readHead(in)) {
                requests.incrementAndGet();
                s.getOutputStream().write(response);
                s.getOutputStream().flush();
                if (closeAfterResponse) {
                    return;
                }
            }
        } catch (IOException e) {
            // the balancer closed the connection: nothing to do
        }
    }

    /** Reads up to the blank line ending a request head; false at end of stream. */
    private static boolean readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        int c;
        while ((c = in.read()) >= 0) {
            head.write(c);
            state = switch (state) {
                case 0 -> c == '\r' ? 1 : 0;
                case 1 -> c == '\n' ? 2 : 0;
                case 2 -> c == '\r' ? 3 : 0;
                default -> c == '\n' ? 4 : 0;
            };
            if (state == 4) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
