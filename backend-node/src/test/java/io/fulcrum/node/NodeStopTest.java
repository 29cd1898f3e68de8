package io.fulcrum.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.store.PostStores;
import io.fulcrum.testing.BlockingCreateStore;
import io.fulcrum.testing.NodeProcess;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping a node (SIGTERM runs {@link Node#close()}) drains it: new connections are refused at once,
 * while a request already in progress is answered before the connections close, so a write the
 * store commits reaches its client. The process stopped so exits 0, as its README says.
 */
class NodeStopTest {
    @TempDir
    Path dir;

    @Test
    void sigtermStopsTheProcessGracefullyWithStatusZero() throws Exception {
        try (NodeProcess node = NodeProcess.start("n1", "us-east", dir.resolve("posts.db"), dir)) {
            HttpResponse<String> created = new TestHttp(node.port()).postJson("/posts",
                    "{\"author\":\"a\",\"text\":\"before the stop\"}");
            assertEquals(201, created.statusCode(), created.body());

            assertEquals(0, node.stop(), "exit status after SIGTERM:\n" + node.logText());
            assertTrue(node.logText().contains("Stopping node n1"), node.logText());
        }
    }

    @Test
    void aRequestInProgressIsAnsweredWhileNewConnectionsAreRefused() throws Exception {
        NodeConfig config = TestNodes.sqlite("n1", dir.resolve("posts.db"));
        CountDownLatch release = new CountDownLatch(1);
        Node node = Node.start(config, registry -> new BlockingCreateStore(
                PostStores.open(config.store(), config.id(), registry, Clock.systemUTC()), release));
        int port = node.port();
        TestHttp http = new TestHttp(port);
        CompletableFuture<Void> stopped = null;
        try {
            CompletableFuture<HttpResponse<String>> inProgress = http.sendAsync(http.request("/posts")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"a\",\"text\":\"in flight\"}")).build());
            await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/health").body().contains("\"inFlight\":1"));

            stopped = CompletableFuture.runAsync(node::close);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close()));
            assertTrue(!stopped.isDone(), "the node waits for the request in progress");

            release.countDown();
            HttpResponse<String> answer = inProgress.get(20, TimeUnit.SECONDS);
            assertEquals(201, answer.statusCode(), answer.body());
            stopped.get(20, TimeUnit.SECONDS);
        } finally {
            release.countDown();
            if (stopped == null) {
                node.close();
            }
        }
    }
}
