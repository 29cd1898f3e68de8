package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.awaitility.Awaitility.await;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.HttpLoad.Request;
import io.fulcrum.testing.NodeProcess;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8, first row: one of three real post servers is SIGKILLed under load of reads and of
 * creates that carry an {@code Idempotency-Key}. No client sees a failure, and no post is written
 * twice. The servers are child JVMs sharing one SQLite file, so the posts are counted in the file.
 */
class BackendKilledTest {
    private static final String AUTHOR = "load";

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void noRequestFailsAndNoPostIsWrittenTwiceWhenOneOfThreeServersIsKilled() throws Exception {
        NodeProcess[] nodes = fx.nodes(3);
        Balancer balancer = fx.readyBalancer(BalancerYaml.underFault().checks("250ms", "1s").backends(nodes));

        HttpLoad load = HttpLoad.to(balancer.port()).connections(16).requests(1500)
                .duration(Duration.ofSeconds(40)).script(BackendKilledTest::request).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= 400);
        nodes[1].kill();
        HttpLoad.Result result = load.await(Duration.ofSeconds(50));

        Fixtures.assertNoFailures(result, balancer);
        assertEquals(1500, result.total(), result.summary());
        long creates = result.matching(o -> o.request().method().equals("POST")).size();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + fx.postsDb());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT COUNT(*), COUNT(DISTINCT text) FROM posts WHERE author = '" + AUTHOR + "'")) {
            rs.next();
            assertEquals(creates, rs.getLong(2), "posts created, each once");
            assertEquals(creates, rs.getLong(1), "posts written (a duplicate is a second row with one text)");
        }
    }

    /** Even numbers create a post keyed by the number; odd numbers read the timeline. */
    private static Request request(long seq) {
        if (seq % 2 == 1) {
            return Request.get("/timeline?author=" + AUTHOR + "&limit=5");
        }
        String key = "post-" + seq;
        byte[] body = ("{\"author\":\"" + AUTHOR + "\",\"text\":\"" + key + "\"}").getBytes(StandardCharsets.UTF_8);
        return new Request("POST", "/posts", Map.of("Content-Type", "application/json", "Idempotency-Key", key), body);
    }
}
