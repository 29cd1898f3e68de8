package io.fulcrum.balancer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.fulcrum.balancer.config.ConfigLoader;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Stopping the balancer: no new connections, requests in progress finish, then it is down. */
class GracefulShutdownTest {
    private HttpServer backend;
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch arrived = new CountDownLatch(1);
    private Balancer balancer;

    @BeforeEach
    void startBackend() throws IOException {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.setExecutor(Executors.newCachedThreadPool());
        backend.createContext("/", exchange -> {
            if (exchange.getRequestURI().getPath().equals("/slow")) {
                arrived.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = "done".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        release.countDown();
        if (balancer != null) {
            balancer.stop(Duration.ZERO);
        }
        backend.stop(0);
    }

    @Test
    void stopRefusesNewConnectionsAndLetsRequestsInProgressFinish() throws Exception {
        balancer = new Balancer(ConfigLoader.parse("""
                listen: { host: 127.0.0.1, port: 0 }
                admin: { host: 127.0.0.1, port: 0 }
                backends:
                  - { id: b1, url: "http://127.0.0.1:%d" }
                health: { interval: 1h }
                access-log: "off"
                """.formatted(backend.getAddress().getPort()), "test"), 1).start();
        int port = balancer.port();
        HttpClient client = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(arrived.await(10, TimeUnit.SECONDS), "the slow request reached the backend");

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> {
            try {
                balancer.stop(Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close()));

        release.countDown();
        HttpResponse<String> response = slow.get(10, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode());
        assertEquals("done", response.body());
        stopping.get(20, TimeUnit.SECONDS);
        balancer = null;
    }
}
