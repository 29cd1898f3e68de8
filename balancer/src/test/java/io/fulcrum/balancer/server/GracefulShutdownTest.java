package io.fulcrum.balancer.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Graceful stop: the listener closes at once, idle connections close, and a request in progress
 * completes within the drain time, with {@code Connection: close} on its response.
 */
class GracefulShutdownTest {
    private ScriptedBackend backend;

    @AfterEach
    void stop() {
        backend.close();
    }

    @Test
    void letsARequestInProgressFinishThenCloses() throws Exception {
        backend = ScriptedBackend.echo("only");
        Balancer balancer = new Balancer(BalancerYaml.forProxy().backend(backend.port()).config(), 1).start();
        int port = balancer.port();
        try (RawHttpClient busy = RawHttpClient.connect(port, 10_000);
                RawHttpClient idle = RawHttpClient.connect(port, 10_000)) {
            assertEquals(200, idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
            busy.send("GET /slow?delayMs=1000 HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests() == 2);

            CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
                try {
                    balancer.stop(Duration.ofSeconds(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(idle.isClosedByPeer(), "an idle connection closes when draining starts");
            RawHttpClient.Response r = busy.readResponse();
            assertEquals(200, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(busy.isClosedByPeer());
            stopped.get(20, TimeUnit.SECONDS);
        }
        IOException refused = assertThrows(IOException.class, () -> RawHttpClient.connect(port, 1000).close());
        assertTrue(refused instanceof ConnectException, refused.toString());
    }
}
