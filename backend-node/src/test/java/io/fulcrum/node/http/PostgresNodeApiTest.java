package io.fulcrum.node.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.node.Node;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.testing.CreateRace;
import io.fulcrum.testing.CuttableTcpProxy;
import io.fulcrum.testing.PostgresSupport;
import io.fulcrum.testing.Teardown;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes over one PostgreSQL schema, as nodes on different machines would run: what one writes the
 * other serves, and an idempotent POST raced through both creates one post. Skipped without PostgreSQL
 * unless FULCRUM_REQUIRE_POSTGRES=1.
 */
class PostgresNodeApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PostgresSupport postgres;
    private Node a;
    private Node b;

    @BeforeEach
    void start() throws InterruptedException {
        postgres = PostgresSupport.createSchema();
        StoreConfig store = StoreConfig.postgres(postgres.url(), postgres.user(), postgres.password());
        NodeConfig base = TestNodes.sqlite("pg-a", Path.of("unused.db")).withStore(store);
        a = Node.start(base);
        b = Node.start(new NodeConfig("pg-b", "eu-west", base.listen(), store, base.limits()));
    }

    @AfterEach
    void stop() throws Exception {
        Teardown.close(b, a, postgres);
    }

    @Test
    void unreachableDatabaseAnswers503AndHealthRecoversWhenItIsBack() throws Exception {
        try (CuttableTcpProxy proxy = new CuttableTcpProxy("127.0.0.1", 5432)) {
            String url = postgres.url().replace("127.0.0.1:5432", "127.0.0.1:" + proxy.port());
            StoreConfig store = StoreConfig.postgres(url, postgres.user(), postgres.password());
            try (Node node = Node.start(new NodeConfig("pg-cut", "us-east", a.config().listen(), store,
                    a.config().limits()))) {
                TestHttp http = new TestHttp(node.port());
                assertEquals(201, http.postJson("/posts", "{\"author\":\"a\",\"text\":\"before\"}").statusCode());

                proxy.cut();
                HttpResponse<String> health = http.get("/health");
                assertEquals(503, health.statusCode(), health.body());
                assertEquals("DOWN", JSON.readTree(health.body()).get("status").asText());
                HttpResponse<String> post = http.postJson("/posts", "{\"author\":\"a\",\"text\":\"during\"}");
                assertEquals(503, post.statusCode(), post.body());
                assertEquals("store_unavailable", JSON.readTree(post.body()).get("error").asText());

                proxy.restore();
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertEquals(200, http.get("/health").statusCode()));
                JsonNode page = JSON.readTree(http.get("/timeline").body());
                assertEquals(1, page.get("posts").size(), "the write during the outage left nothing behind");
            }
        }
    }

    @Test
    void nodesShareOneDatabaseAndAnIdempotentRaceCreatesOnePost() throws Exception {
        TestHttp viaA = new TestHttp(a.port());
        TestHttp viaB = new TestHttp(b.port());
        HttpResponse<String> created = viaA.postJson("/posts", "{\"author\":\"ann\",\"text\":\"from a\"}");
        assertEquals(201, created.statusCode(), created.body());
        long id = JSON.readTree(created.body()).get("id").asLong();
        assertEquals("from a", JSON.readTree(viaB.get("/posts/" + id).body()).get("text").asText());
        assertEquals(200, viaB.putJson("/posts/" + id, "{\"text\":\"edited on b\"}").statusCode());
        assertEquals("\"2\"", viaA.get("/posts/" + id).headers().firstValue("ETag").orElseThrow());

        List<CompletableFuture<HttpResponse<String>>> race = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            for (TestHttp http : List.of(viaA, viaB)) {
                race.add(http.sendAsync(http.request("/posts").header("Content-Type", "application/json")
                        .header("Idempotency-Key", "pg-race")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"bob\",\"text\":\"once\"}")).build()));
            }
        }
        CreateRace outcome = CreateRace.settle(race);
        assertEquals(1, outcome.created());
        assertEquals(1, outcome.ids().size());
        JsonNode bobs = JSON.readTree(viaB.get("/timeline?author=bob").body());
        assertEquals(1, bobs.get("posts").size());
        JsonNode health = JSON.readTree(viaB.get("/health").body());
        assertEquals("pg-b", health.get("node").asText());
        assertEquals("eu-west", health.get("region").asText());
    }
}
