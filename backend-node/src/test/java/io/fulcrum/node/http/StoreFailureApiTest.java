package io.fulcrum.node.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.node.Node;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.store.PostStore;
import io.fulcrum.node.store.PostStores;
import io.fulcrum.node.store.StoreUnavailableException;
import io.fulcrum.testing.BlockingCreateStore;
import io.fulcrum.testing.ForwardingPostStore;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What clients see when the store is down or the node's store queue is full. */
class StoreFailureApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Node node;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void storeDownAnswers503AndHealthTurns503UntilItIsBack() throws Exception {
        NodeConfig config = TestNodes.sqlite("n1", dir.resolve("posts.db"));
        SwitchableStore[] holder = new SwitchableStore[1];
        node = Node.start(config, registry -> holder[0] = new SwitchableStore(
                PostStores.open(config.store(), config.id(), registry, Clock.systemUTC())));
        TestHttp http = new TestHttp(node.port());
        assertEquals(201, http.postJson("/posts", "{\"author\":\"a\",\"text\":\"before\"}").statusCode());

        holder[0].down = true;
        HttpResponse<String> health = http.get("/health");
        assertEquals(503, health.statusCode());
        assertEquals("DOWN", JSON.readTree(health.body()).get("status").asText());
        assertStoreUnavailable(http.postJson("/posts", "{\"author\":\"a\",\"text\":\"during\"}"));
        assertStoreUnavailable(http.get("/posts/1"));
        assertStoreUnavailable(http.get("/timeline"));
        assertStoreUnavailable(http.delete("/posts/1"));

        holder[0].down = false;
        assertEquals(200, http.get("/health").statusCode());
        JsonNode page = JSON.readTree(http.get("/timeline").body());
        assertEquals(1, page.get("posts").size(), "nothing was half-written while the store was down");
    }

    @Test
    void closedConnectionPoolIsReportedAsStoreDown() throws Exception {
        NodeConfig config = TestNodes.sqlite("n1", dir.resolve("posts.db"));
        PostStore[] holder = new PostStore[1];
        node = Node.start(config, registry -> holder[0] = PostStores.open(config.store(), config.id(), registry,
                Clock.systemUTC()));
        TestHttp http = new TestHttp(node.port());
        assertEquals(200, http.get("/health").statusCode());
        holder[0].close();
        assertEquals(503, http.get("/health").statusCode());
        assertStoreUnavailable(http.postJson("/posts", "{\"author\":\"a\",\"text\":\"x\"}"));
    }

    @Test
    void fullStoreQueueAnswers503AtOnceAndHealthReportsFullLoad() throws Exception {
        // One writer thread and room for one waiting write: the third concurrent write must be refused.
        NodeConfig base = TestNodes.sqlite("n1", dir.resolve("posts.db"));
        NodeConfig config = base.withStore(base.store().withWorkers(2, 1));
        CountDownLatch release = new CountDownLatch(1);
        node = Node.start(config, registry -> new BlockingCreateStore(
                PostStores.open(config.store(), config.id(), registry, Clock.systemUTC()), release));
        TestHttp http = new TestHttp(node.port());
        HttpRequest post = http.request("/posts").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"a\",\"text\":\"b\"}")).build();
        try {
            CompletableFuture<HttpResponse<String>> running = http.sendAsync(post);
            CompletableFuture<HttpResponse<String>> queued = http.sendAsync(post);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertEquals(2, JSON.readTree(http.get("/health").body()).get("inFlight").asInt()));

            HttpResponse<String> refused = http.send(post);
            assertEquals(503, refused.statusCode());
            assertEquals("overloaded", JSON.readTree(refused.body()).get("error").asText());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElseThrow());
            JsonNode health = JSON.readTree(http.get("/health").body());
            assertEquals("UP", health.get("status").asText());
            assertEquals(1.0, health.get("load").asDouble());

            release.countDown();
            assertEquals(201, running.get(10, TimeUnit.SECONDS).statusCode());
            assertEquals(201, queued.get(10, TimeUnit.SECONDS).statusCode());
        } finally {
            release.countDown();
        }
    }

    private static void assertStoreUnavailable(HttpResponse<String> r) throws IOException {
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("store_unavailable", JSON.readTree(r.body()).get("error").asText());
        assertTrue(r.headers().firstValue("Retry-After").isPresent());
    }

    /** Delegates to a real store, or fails every call like an unreachable database while {@code down}. */
    private static final class SwitchableStore extends ForwardingPostStore {
        volatile boolean down;

        SwitchableStore(PostStore delegate) {
            super(delegate);
        }

        @Override
        protected void beforeCall() {
            if (down) {
                throw new StoreUnavailableException("test: store down", new SQLException("connection refused"));
            }
        }
    }
}
