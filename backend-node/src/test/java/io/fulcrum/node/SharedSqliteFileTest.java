package io.fulcrum.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.testing.NodeProcess;
import io.fulcrum.testing.TestHttp;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node processes over one SQLite file, as in the local cluster: what one writes the other reads,
 * concurrent writes through both lose nothing, and posts survive restarting a node.
 */
class SharedSqliteFileTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int POSTS_PER_NODE = 500;
    private static final int CONCURRENCY_PER_NODE = 16;

    @TempDir
    Path dir;

    @Test
    void twoProcessesShareOneFileWithoutLosingWrites() throws Exception {
        Path db = dir.resolve("data/posts.db");
        long firstId;
        try (NodeProcess a = NodeProcess.start("a", "us-east", db, dir);
                NodeProcess b = NodeProcess.start("b", "us-east", db, dir)) {
            TestHttp viaA = new TestHttp(a.port());
            TestHttp viaB = new TestHttp(b.port());

            HttpResponse<String> created = viaA.postJson("/posts", "{\"author\":\"ann\",\"text\":\"written via a\"}");
            assertEquals(201, created.statusCode(), created.body());
            firstId = JSON.readTree(created.body()).get("id").asLong();
            HttpResponse<String> read = viaB.get("/posts/" + firstId);
            assertEquals(200, read.statusCode());
            assertEquals("written via a", JSON.readTree(read.body()).get("text").asText());

            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            all.addAll(postMany(viaA, "a"));
            all.addAll(postMany(viaB, "b"));
            for (CompletableFuture<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                assertEquals(201, r.statusCode(), r.body());
            }
            JsonNode page = JSON.readTree(viaA.get("/timeline?author=b&limit=1").body());
            assertEquals("b", page.get("posts").get(0).get("author").asText(), "a sees b's posts");
            assertEquals(0, a.stop(), "a graceful stop exits 0");
            assertEquals(0, b.stop(), "a graceful stop exits 0");
        }
        assertEquals(1 + 2 * POSTS_PER_NODE, countRows(db, "SELECT COUNT(*) FROM posts"));
        assertEquals(1 + 2 * POSTS_PER_NODE, countRows(db, "SELECT COUNT(DISTINCT id) FROM posts"));

        try (NodeProcess again = NodeProcess.start("a", "us-east", db, dir)) {
            HttpResponse<String> r = new TestHttp(again.port()).get("/posts/" + firstId);
            assertEquals(200, r.statusCode(), "posts survive a restart");
            assertEquals("written via a", JSON.readTree(r.body()).get("text").asText());
        }
    }

    private static List<CompletableFuture<HttpResponse<String>>> postMany(TestHttp http, String author)
            throws InterruptedException {
        Semaphore permits = new Semaphore(CONCURRENCY_PER_NODE);
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < POSTS_PER_NODE; i++) {
            if (!permits.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("requests did not complete");
            }
            HttpRequest req = http.request("/posts").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"author\":\"" + author + "\",\"text\":\"post " + i + "\"}")).build();
            futures.add(http.sendAsync(req).whenComplete((r, e) -> permits.release()));
        }
        return futures;
    }

    private static long countRows(Path db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
