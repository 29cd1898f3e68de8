package io.fulcrum.balancer.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.BlockingListener;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A graceful stop with responses that never end by themselves: a Server-Sent Events stream and a
 * WebSocket tunnel. Like nginx's and HAProxy's graceful stop, the balancer lets requests finish,
 * but such a response would only end at the drain timeout, so it ends at the drain's start: the
 * event stream with its last chunk (an {@code EventSource} reconnects, to another balancer), the
 * tunnel with a close. The stop then completes long before a drain period of minutes.
 */
class DrainLongLivedResponsesTest {
    /** Far longer than any test waits: a stop that completes did not wait for it. */
    private static final Duration LONG_DRAIN = Duration.ofMinutes(10);

    private HeldBackend backend;
    private Balancer balancer;
    private CompletableFuture<Void> stopped;

    @AfterEach
    void closeAll() throws Exception {
        if (balancer != null && stopped == null) {
            balancer.stop(Duration.ZERO);
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void anEventStreamEndsCleanlyWhenTheBalancerStartsDraining() throws Exception {
        backend = new HeldBackend("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                + "Cache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "f\r\ndata: {\"a\":1}\n\n\r\n");
        balancer = new Balancer(BalancerYaml.forProxy().backend(backend.port()).config(), 1).start();
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), 20_000)) {
            client.send("GET /events HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n");
            String head = readUntil(client.input(), "data: {\"a\":1}\n\n");
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked"), head);

            stopped = stopAsync(balancer);
            String rest = new String(client.input().readAllBytes(), StandardCharsets.US_ASCII);
            assertEquals("\r\n0\r\n\r\n", rest, "the stream ends with its last chunk, then the connection closes");
            await().atMost(Fixtures.WAIT).until(stopped::isDone);
            stopped.get();
            await().atMost(Fixtures.WAIT).until(() -> backend.closed() == 1);
        }
    }

    @Test
    void aWebSocketTunnelIsClosedWhenTheBalancerStartsDraining() throws Exception {
        backend = new HeldBackend("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        balancer = new Balancer(BalancerYaml.forProxy().backend(backend.port()).config(), 1).start();
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), 20_000)) {
            client.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            String head = readUntil(client.input(), "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 101"), head);

            stopped = stopAsync(balancer);
            assertTrue(client.isClosedByPeer(), "the tunnel closes at the drain's start");
            await().atMost(Fixtures.WAIT).until(stopped::isDone);
            stopped.get();
            await().atMost(Fixtures.WAIT).until(() -> backend.closed() == 1);
        }
    }

    private static CompletableFuture<Void> stopAsync(Balancer balancer) {
        return CompletableFuture.runAsync(() -> {
            try {
                balancer.stop(LONG_DRAIN);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }

    /** Reads from {@code in} until what was read ends with {@code end}. */
    private static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        while (!read.toString(StandardCharsets.US_ASCII).endsWith(end)) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + read.toString(StandardCharsets.US_ASCII));
            }
            read.write(b);
        }
        return read.toString(StandardCharsets.US_ASCII);
    }

    /**
     * A backend that answers each connection's first request head with a fixed response start, then
     * sends nothing more and holds the connection until the peer closes it; it counts those closes.
     * One thread per connection: the test opens one.
     */
    private static final class HeldBackend implements AutoCloseable {
        private final AtomicInteger closed = new AtomicInteger();
        private final byte[] response;
        private final BlockingListener listener;

        HeldBackend(String response) throws IOException {
            this.response = response.getBytes(StandardCharsets.UTF_8);
            this.listener = BlockingListener.start("held-backend", this::hold);
        }

        int port() {
            return listener.port();
        }

        int closed() {
            return closed.get();
        }

        private void hold(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                readUntil(in, "\r\n\r\n");
                OutputStream out = s.getOutputStream();
                out.write(response);
                out.flush();
                while (in.read() >= 0) {
                    // held: whatever comes is ignored until the peer closes
                }
            } catch (IOException e) {
                // reset by the peer: closed all the same
            }
            closed.incrementAndGet();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
