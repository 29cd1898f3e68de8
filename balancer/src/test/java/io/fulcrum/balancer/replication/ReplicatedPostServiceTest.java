package io.fulcrum.balancer.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.node.Node;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.NodeLimitsConfig;
import io.fulcrum.node.config.NodeListenConfig;
import io.fulcrum.node.config.ReplicaConfig;
import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.node.store.WalPosition;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.PostgresCluster;
import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The post service on a real PostgreSQL primary with one streaming replica per region (made by
 * {@code scripts/run-cluster.sh}), two post servers per region and the balancer in front, over real
 * sockets. One cluster serves the whole class; each test leaves it as it found it (replay running,
 * primary up).
 *
 * <p>us-east's nodes allow 3 s of replica lag, eu-west's 60 s, so that a paused eu-west replica stays
 * in use (its stale reads are visible) while a paused us-east replica soon makes its nodes step aside.
 */
class ReplicatedPostServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REGION_HEADER = "X-Client-Region";
    private static final String TOKEN = "X-Post-Version";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static PostgresCluster cluster;
    private static final Map<String, Node> NODES = new HashMap<>();

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /** Set when this machine cannot run PostgreSQL: every test is then skipped with it. */
    private static String skipped;

    @BeforeAll
    static void startCluster() throws Exception {
        skipped = PostgresCluster.unavailableReason();
        if (skipped != null) {
            return;
        }
        cluster = PostgresCluster.start(List.of("us-east", "eu-west"));
        startNode("us-1", "us-east", Duration.ofSeconds(3));
        startNode("us-2", "us-east", Duration.ofSeconds(3));
        startNode("eu-1", "eu-west", Duration.ofSeconds(60));
        startNode("eu-2", "eu-west", Duration.ofSeconds(60));
    }

    private static void startNode(String id, String region, Duration maxLag) throws InterruptedException {
        ReplicaConfig replica = ReplicaConfig.of(cluster.replicaUrl(region), "postgres", "")
                .withFreshness(maxLag, Duration.ofMillis(250), Duration.ofMillis(100));
        StoreConfig store = StoreConfig.postgres(cluster.primaryUrl(), "postgres", "").withWorkers(4, 256)
                .withReplica(replica);
        NODES.put(id, Node.start(new NodeConfig(id, region, new NodeListenConfig("127.0.0.1", 0), store,
                NodeLimitsConfig.DEFAULTS)));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        NODES.values().forEach(Node::close);
        NODES.clear();
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void needsTheCluster() {
        assumeTrue(skipped == null, skipped);
    }

    private Balancer balancer() throws Exception {
        BalancerYaml yaml = BalancerYaml.create().set("region", "us-east")
                .set("routing.region-header", REGION_HEADER)
                .merge("trusted-edges: { networks: [127.0.0.0/8, \"::1/128\"] }")
                .set("health.enabled", "true").set("health.interval", "200ms").set("health.timeout", "1s")
                .set("health.rise", "2").set("health.fall", "2");
        for (String id : List.of("us-1", "us-2", "eu-1", "eu-2")) {
            yaml.backend(id, NODES.get(id).port(), NODES.get(id).config().region());
        }
        return fx.readyBalancer(yaml);
    }

    @Test
    void aClientReadsItsOwnWriteThroughAPausedReplicaWhileOthersMayNotYet() throws Exception {
        Balancer balancer = balancer();
        String author = "ryw-" + UUID.randomUUID().toString().substring(0, 8);
        HttpClient writer = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpClient stranger = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        cluster.pauseReplay("eu-west");
        try {
            HttpResponse<String> created = writer.send(post(balancer, author, "mine", null, "eu-west"),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            String token = created.headers().firstValue(TOKEN).orElse(null);
            assertNotNull(token, "a write returns its consistency token");
            assertTrue(created.headers().firstValue("Set-Cookie").orElse("").startsWith("fulcrum-post-version="),
                    created.headers().map().toString());
            long id = JSON.readTree(created.body()).get("id").asLong();

            // The writer's browser sends the cookie: an eu-west node waits, then reads from the primary.
            HttpResponse<String> mine = writer.send(get(balancer, "/posts/" + id, "eu-west", null),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, mine.statusCode(), mine.body());
            assertTrue(servedBy(mine).startsWith("eu-"), servedBy(mine));
            String readToken = mine.headers().firstValue(TOKEN).orElseThrow();
            assertTrue(WalPosition.parse(readToken) >= WalPosition.parse(token),
                    "a read's token covers what the client had seen: " + readToken + " < " + token);
            HttpResponse<String> myTimeline = writer.send(get(balancer, "/timeline?author=" + author, "eu-west",
                    null), HttpResponse.BodyHandlers.ofString());
            assertEquals(1, JSON.readTree(myTimeline.body()).get("posts").size(), myTimeline.body());
            assertTrue(servedBy(myTimeline).startsWith("eu-"), servedBy(myTimeline));

            // The same token in the header works for clients without cookies.
            HttpResponse<String> byHeader = stranger.send(get(balancer, "/posts/" + id, "eu-west", token),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, byHeader.statusCode(), byHeader.body());

            // Without the token an eu-west node answers from its paused copy: not there yet, as documented.
            HttpResponse<String> theirs = stranger.send(get(balancer, "/timeline?author=" + author, "eu-west",
                    null), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, theirs.statusCode(), theirs.body());
            assertTrue(servedBy(theirs).startsWith("eu-"), servedBy(theirs));
            assertEquals(0, JSON.readTree(theirs.body()).get("posts").size(), theirs.body());
        } finally {
            cluster.resumeReplay("eu-west");
        }
        await("the replica catches up for everyone").atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> theirs = stranger.send(get(balancer, "/timeline?author=" + author, "eu-west",
                    null), HttpResponse.BodyHandlers.ofString());
            assertEquals(1, JSON.readTree(theirs.body()).get("posts").size(), theirs.body());
        });
    }

    @Test
    void aReplicaLaggingPastTheLimitLosesItsTrafficUntilItCatchesUp() throws Exception {
        Balancer balancer = balancer();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        await("us-east serves its own region").atMost(WAIT).until(() -> servedBy(client.send(
                get(balancer, "/timeline?limit=1", null, null), HttpResponse.BodyHandlers.ofString())).startsWith("us-"));
        cluster.pauseReplay("us-east");
        try {
            HttpResponse<String> created = client.send(post(balancer, "lag", "after the pause", null, null),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            HttpClient direct = HttpClient.newHttpClient();
            await("us-1 reports its lag past max-lag").atMost(WAIT).untilAsserted(() -> {
                HttpResponse<String> health = direct.send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + NODES.get("us-1").port() + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode h = JSON.readTree(health.body());
                assertEquals(503, health.statusCode(), health.body());
                assertEquals("STALE", h.get("status").asText(), health.body());
                assertTrue(h.get("replication").get("lagMs").asLong() > h.get("replication").get("maxLagMs").asLong(),
                        health.body());
            });
            await("the balancer moves the region's traffic to eu-west").atMost(WAIT)
                    .untilAsserted(() -> assertServedFrom(client, balancer, "eu-"));
            // A request that still reaches a stale node is served by the primary: the new post is there.
            long id = JSON.readTree(created.body()).get("id").asLong();
            HttpResponse<String> stillThere = direct.send(direct(NODES.get("us-2").port(), "/posts/" + id).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, stillThere.statusCode(), stillThere.body());
        } finally {
            cluster.resumeReplay("us-east");
        }
        await("the traffic comes back once the replica has caught up").atMost(WAIT)
                .untilAsserted(() -> assertServedFrom(client, balancer, "us-"));
    }

    @Test
    void withThePrimaryStoppedReadsGoOnWritesGet503AndNothingIsLostOrDuplicated() throws Exception {
        Balancer balancer = balancer();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String run = "outage-" + UUID.randomUUID().toString().substring(0, 8);
        AtomicBoolean primaryDown = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> readFailures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> writeProblems = new ConcurrentLinkedQueue<>();
        AtomicInteger readsDuringOutage = new AtomicInteger();
        AtomicInteger refusedDuringOutage = new AtomicInteger();
        AtomicInteger writesOk = new AtomicInteger();
        Set<String> attempted = ConcurrentHashMap.newKeySet();
        Set<String> unconfirmed = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            threads.add(new Thread(() -> {
                for (int i = 0; i < 20_000 && !stop.get(); i++) {
                    boolean during = primaryDown.get();
                    try {
                        HttpResponse<String> res = client.send(get(balancer, "/timeline?limit=5", null, null),
                                HttpResponse.BodyHandlers.ofString());
                        if (res.statusCode() != 200) {
                            readFailures.add(res.statusCode() + " " + res.body());
                        } else if (during && primaryDown.get()) {
                            readsDuringOutage.incrementAndGet();
                        }
                    } catch (IOException | InterruptedException e) {
                        readFailures.add(e.toString());
                    }
                }
            }, "outage-reader-" + r));
        }
        for (int w = 0; w < 2; w++) {
            int writer = w;
            threads.add(new Thread(() -> {
                for (int i = 0; i < 20_000 && !stop.get(); i++) {
                    String key = run + "-" + writer + "-" + i;
                    attempted.add(key);
                    boolean during = primaryDown.get();
                    try {
                        HttpResponse<String> res = client.send(post(balancer, run, key, key, null),
                                HttpResponse.BodyHandlers.ofString());
                        if (res.statusCode() == 201 || res.statusCode() == 200) {
                            writesOk.incrementAndGet();
                        } else if (res.statusCode() == 503) {
                            unconfirmed.add(key);
                            if (res.headers().firstValue("Retry-After").isEmpty()
                                    || !JSON.readTree(res.body()).has("error")) {
                                writeProblems.add("503 without Retry-After or JSON error: " + res.headers().map()
                                        + " " + res.body());
                            }
                            if (during && primaryDown.get()) {
                                refusedDuringOutage.incrementAndGet();
                            }
                        } else {
                            unconfirmed.add(key);
                            writeProblems.add(res.statusCode() + " " + res.body());
                        }
                    } catch (IOException | InterruptedException e) {
                        unconfirmed.add(key);
                        writeProblems.add(e.toString());
                    }
                }
            }, "outage-writer-" + w));
        }
        threads.forEach(Thread::start);
        try {
            await("load before the outage").atMost(WAIT).until(() -> writesOk.get() >= 10);
            cluster.stopPrimary();
            primaryDown.set(true);
            await("reads served and writes refused during the outage").atMost(WAIT)
                    .until(() -> readsDuringOutage.get() >= 30 && refusedDuringOutage.get() >= 10);
            HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + NODES.get("us-1").port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), "reads still work, so the node is ready: " + health.body());
            assertEquals("DOWN", JSON.readTree(health.body()).get("replication").get("primary").asText(),
                    health.body());
            primaryDown.set(false);
            cluster.startPrimary();
            int okBefore = writesOk.get();
            await("writes succeed again without restarting anything").atMost(WAIT)
                    .until(() -> writesOk.get() >= okBefore + 10);
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(Duration.ofSeconds(30).toMillis());
            }
            if (primaryDown.get()) {
                cluster.startPrimary();
            }
        }
        assertTrue(readFailures.isEmpty(), readFailures.size() + " failed reads, e.g. " + readFailures.peek());
        assertTrue(writeProblems.isEmpty(), writeProblems.size() + " bad write answers, e.g. " + writeProblems.peek());

        // Every refused write is replayed with its key: created now, or found as created before the outage.
        for (String key : unconfirmed) {
            HttpResponse<String> res = client.send(post(balancer, run, key, key, null),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(res.statusCode() == 201 || res.statusCode() == 200, key + ": " + res.statusCode() + " "
                    + res.body());
        }
        Map<String, Integer> rows = new HashMap<>();
        try (Connection c = cluster.primary();
                PreparedStatement st = c.prepareStatement(
                        "SELECT idempotency_key, COUNT(*), MIN(text) FROM posts WHERE author = ? GROUP BY idempotency_key")) {
            st.setString(1, run);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    rows.put(rs.getString(1), rs.getInt(2));
                    assertEquals(rs.getString(1), rs.getString(3), "the post of each key has that key's text");
                }
            }
        }
        assertEquals(attempted, rows.keySet(), "every attempted write exists once its key was replayed");
        assertTrue(rows.values().stream().allMatch(n -> n == 1), "no key has two posts: " + rows);
    }

    @Test
    void aTokenTheReplicaLacksIsRefusedWhileThePrimaryIsDownNotAnsweredWithoutTheWrite() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        int eu = NODES.get("eu-1").port();
        cluster.pauseReplay("eu-west");
        try {
            HttpResponse<String> created = client.send(direct(eu, "/posts")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"fence\",\"text\":\"t\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            String token = created.headers().firstValue(TOKEN).orElseThrow();
            long id = JSON.readTree(created.body()).get("id").asLong();
            cluster.stopPrimary();
            try {
                await("eu-1 sees the primary down").atMost(WAIT).until(() -> "DOWN".equals(JSON.readTree(client.send(
                        direct(eu, "/health").build(), HttpResponse.BodyHandlers.ofString()).body())
                        .get("replication").get("primary").asText()));
                HttpResponse<String> withToken = client.send(direct(eu, "/posts/" + id).header(TOKEN, token).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(503, withToken.statusCode(), withToken.body());
                assertEquals("primary_unavailable", JSON.readTree(withToken.body()).get("error").asText());
                assertTrue(withToken.headers().firstValue("Retry-After").isPresent());
                HttpResponse<String> withoutToken = client.send(direct(eu, "/timeline?limit=1").build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, withoutToken.statusCode(), "reads without a token go on: " + withoutToken.body());
            } finally {
                cluster.startPrimary();
            }
            await("the primary serves the token's read again").atMost(WAIT).until(() -> client.send(
                    direct(eu, "/posts/" + id).header(TOKEN, token).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
        } finally {
            cluster.resumeReplay("eu-west");
        }
    }

    @Test
    void aNodeWhoseReplicaIsUnreachableStartsAndServesFromThePrimary() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ReplicaConfig replica = ReplicaConfig.of("jdbc:postgresql://127.0.0.1:" + closedPort + "/fulcrum", "postgres", "")
                .withFreshness(Duration.ofMillis(500), Duration.ofMillis(250), Duration.ofMillis(100));
        StoreConfig store = StoreConfig.postgres(cluster.primaryUrl(), "postgres", "").withWorkers(2, 64)
                .withReplica(replica);
        try (Node node = Node.start(new NodeConfig("lone", "us-east", new NodeListenConfig("127.0.0.1", 0), store,
                NodeLimitsConfig.DEFAULTS))) {
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> created = client.send(direct(node.port(), "/posts")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"lone\",\"text\":\"t\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            long id = JSON.readTree(created.body()).get("id").asLong();
            HttpResponse<String> read = client.send(direct(node.port(), "/posts/" + id).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, read.statusCode(), read.body());
            // A replica that does not answer lags, but it is not a stale copy in use: the node stays ready.
            await("the unreachable replica's lag passes max-lag").atMost(WAIT).untilAsserted(() -> {
                HttpResponse<String> health = client.send(direct(node.port(), "/health").build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode replication = JSON.readTree(health.body()).get("replication");
                assertTrue(replication.get("lagMs").asLong() > replication.get("maxLagMs").asLong(), health.body());
                assertEquals(200, health.statusCode(), health.body());
                assertEquals("DOWN", replication.get("replica").asText(), health.body());
                assertEquals("UP", replication.get("primary").asText(), health.body());
            });
        }
    }

    private static HttpRequest.Builder direct(int port, String target) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + target)).timeout(Duration.ofSeconds(10));
    }

    private static void assertServedFrom(HttpClient client, Balancer balancer, String prefix) throws Exception {
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> res = client.send(get(balancer, "/timeline?limit=1", null, null),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode(), res.body());
            assertTrue(servedBy(res).startsWith(prefix), "served by " + servedBy(res));
        }
    }

    private static String servedBy(HttpResponse<?> res) {
        return res.headers().firstValue(Fixtures.BACKEND_HEADER).orElse("(none)");
    }

    private static HttpRequest get(Balancer balancer, String target, String region, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + target))
                .timeout(Duration.ofSeconds(10));
        if (region != null) {
            b.header(REGION_HEADER, region);
        }
        if (token != null) {
            b.header(TOKEN, token);
        }
        return b.build();
    }

    private static HttpRequest post(Balancer balancer, String author, String text, String key, String region) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/posts"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"" + author + "\",\"text\":\"" + text + "\"}"));
        if (key != null) {
            b.header("Idempotency-Key", key);
        }
        if (region != null) {
            b.header(REGION_HEADER, region);
        }
        return b.build();
    }
}
