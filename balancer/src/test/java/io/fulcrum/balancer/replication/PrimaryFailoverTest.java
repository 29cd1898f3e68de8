package io.fulcrum.balancer.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.node.Node;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.NodeLimitsConfig;
import io.fulcrum.node.config.NodeListenConfig;
import io.fulcrum.node.config.ReplicaConfig;
import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.testing.AutoFailoverCluster;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Writers;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The post service survives its primary: two post servers behind the balancer on a real
 * pg_auto_failover formation (made by {@code scripts/run-cluster.sh --ha}), finding the primary by a
 * multi-host JDBC URL. The primary is killed under a write load; the writes refused meanwhile are
 * answered 503 with {@code Retry-After} and sent again with the same {@code Idempotency-Key}, as a
 * client should; afterwards every write is there once, writes went on without restarting anything,
 * and a client's read-your-writes token from before the promotion still reads its write.
 */
class PrimaryFailoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(120);

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Node node(AutoFailoverCluster cluster, String id) throws InterruptedException {
        ReplicaConfig replica = ReplicaConfig.of(cluster.url("preferSecondary"), "postgres", "")
                .withFreshness(Duration.ofSeconds(5), Duration.ofMillis(250), Duration.ofMillis(100));
        StoreConfig store = StoreConfig.postgres(cluster.url("primary"), "postgres", "").withWorkers(4, 256)
                .withReplica(replica);
        return fx.closeAfter(Node.start(new NodeConfig(id, "local", new NodeListenConfig("127.0.0.1", 0), store,
                NodeLimitsConfig.DEFAULTS)));
    }

    private static HttpRequest post(Balancer b, String author, String key) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.port() + "/posts"))
                .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
                .header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"" + author + "\",\"text\":\"" + key + "\"}"))
                .build();
    }

    /** What the writers saw. */
    private static final class Tally {
        final AtomicInteger written = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        final AtomicInteger refusedWithoutRetryAfter = new AtomicInteger();
        final ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
        /** When the first write refused after the kill was refused (System.nanoTime), or 0. */
        final AtomicLong firstRefusal = new AtomicLong();
        /** When the first write sent after that refusal was acknowledged, or 0: writes are back. */
        final AtomicLong firstAfterKill = new AtomicLong();
        volatile long killedAt;
    }

    /**
     * Writes post {@code key} until it is acknowledged: a 503 (or a connection the balancer could
     * not complete) is counted and sent again with the same key, as a client following
     * {@code Retry-After} would, polled by Awaitility within {@link #WAIT}.
     */
    private static void write(HttpClient client, Balancer b, String author, String key, Tally tally) {
        await("write " + key).atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100)).until(() -> {
            long sent = System.nanoTime();
            HttpResponse<String> r = client.send(post(b, author, key), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 201 || r.statusCode() == 200) {
                long refusedAt = tally.firstRefusal.get();
                if (refusedAt != 0 && sent - refusedAt > 0) {
                    tally.firstAfterKill.compareAndSet(0, System.nanoTime());
                }
                return true;
            }
            if (r.statusCode() == 503) {
                tally.refused.incrementAndGet();
                if (tally.killedAt != 0) {
                    tally.firstRefusal.compareAndSet(0, System.nanoTime());
                }
                if (r.headers().firstValue("Retry-After").isEmpty()) {
                    tally.refusedWithoutRetryAfter.incrementAndGet();
                }
                return false;
            }
            tally.unexpected.add(r.statusCode() + " " + r.body());
            return false;
        });
        tally.written.incrementAndGet();
    }

    @Test
    void writesResumeOnThePromotedNodeWithNoneLostOrDoubledAndTokensStillRead() throws Exception {
        if (AutoFailoverCluster.unavailableReason() != null) {
            abort(AutoFailoverCluster.unavailableReason());
        }
        AutoFailoverCluster cluster = fx.closeAfter(AutoFailoverCluster.start());
        Node n1 = node(cluster, "n1");
        Node n2 = node(cluster, "n2");
        Balancer balancer = fx.readyBalancer(BalancerYaml.create().backend("n1", n1.port()).backend("n2", n2.port())
                .set("health.enabled", "true").set("health.interval", "200ms").set("health.timeout", "1s")
                .set("retry.attempts", "1"));
        String author = "failover-" + UUID.randomUUID().toString().substring(0, 8);

        // A client that keeps its consistency token (the cookie) writes before the failover.
        HttpClient reader = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        HttpResponse<String> mine = reader.send(post(balancer, author, "before"), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, mine.statusCode(), mine.body());
        long mineId = JSON.readTree(mine.body()).get("id").asLong();

        int writers = 2;
        int perWriter = 40;
        Tally tally = new Tally();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try (Writers loops = Writers.start(writers, writer -> {
            for (int i = 0; i < perWriter; i++) {
                write(client, balancer, author, "w" + writer + "-" + i, tally);
            }
        })) {
            await().atMost(WAIT).until(() -> tally.written.get() >= 20);
            tally.killedAt = System.nanoTime();
            cluster.kill("pg1");
            loops.join();
        }
        assertEquals(List.of(), List.copyOf(tally.unexpected), "only 201, 200 (the same post again) or 503");
        assertEquals(0, tally.refusedWithoutRetryAfter.get(), "every refusal says when to come back");
        assertTrue(tally.firstRefusal.get() != 0, "the killed primary refused writes for a while");
        assertTrue(tally.firstAfterKill.get() != 0, "writes went on after the primary was killed");
        double seconds = (tally.firstAfterKill.get() - tally.killedAt) / 1e9;

        // Every acknowledged write is on the promoted primary, once.
        int rows;
        int distinct;
        try (Connection c = cluster.primary();
                PreparedStatement st = c.prepareStatement(
                        "SELECT count(*), count(DISTINCT text) FROM posts WHERE author = ? AND text <> 'before'")) {
            st.setString(1, author);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                rows = rs.getInt(1);
                distinct = rs.getInt(2);
            }
        }
        System.out.printf("primary killed under %d writers: %d writes acknowledged, %d rows, %d refused with 503"
                + " (each sent again), writes again %.1f s after the kill%n", writers, tally.written.get(), rows,
                tally.refused.get(), seconds);
        assertEquals(writers * perWriter, distinct, "no acknowledged write lost");
        assertEquals(writers * perWriter, rows, "no write made twice");

        // The token from before the promotion still reads the client's own write, and a write now reads too.
        HttpResponse<String> read = reader.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port()
                + "/posts/" + mineId)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, read.statusCode(), read.body());
        HttpResponse<String> after = reader.send(post(balancer, author, "after"), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, after.statusCode(), after.body());
        HttpResponse<String> readAfter = reader.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + balancer.port() + "/posts/" + JSON.readTree(after.body()).get("id").asLong())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, readAfter.statusCode(), readAfter.body());
    }
}
