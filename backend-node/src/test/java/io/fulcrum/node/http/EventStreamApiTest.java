package io.fulcrum.node.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.node.Node;
import io.fulcrum.node.config.EventsConfig;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.store.PostStore;
import io.fulcrum.node.store.PostStores;
import io.fulcrum.testing.EventStreamClient;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /events} over real HTTP with two nodes sharing one SQLite file: a change made through
 * one node reaches a stream held by the other, as {@code post} and {@code delete} events whose ids
 * are change-log seqs; a reconnect with {@code Last-Event-ID} gets what it missed (from either
 * node), or a {@code reset} when that is older than the node knows; heartbeats flow while nothing
 * happens; streams past {@code events.max-streams} are refused with 503; and however many streams
 * are open, only the node's one watcher reads the store's change log.
 */
class EventStreamApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Fast enough that a test waits a little, not 500 ms per step. */
    private static final EventsConfig FAST = new EventsConfig(Duration.ofMillis(50), Duration.ofSeconds(30), 10);

    @TempDir
    Path dir;
    private Node a;
    private Node b;

    @AfterEach
    void stop() {
        for (Node n : new Node[] {a, b}) {
            if (n != null) {
                n.close();
            }
        }
    }

    private Node node(String id, EventsConfig events) throws InterruptedException {
        NodeConfig config = TestNodes.sqlite(id, dir.resolve("posts.db")).withEvents(events);
        return Node.start(config);
    }

    private static long create(TestHttp api, String author, String text) throws Exception {
        HttpResponse<String> r = api.postJson("/posts", "{\"author\":\"" + author + "\",\"text\":\"" + text + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("id").asLong();
    }

    @Test
    void aChangeThroughOneNodeReachesAStreamHeldByTheOther() throws Exception {
        a = node("a", FAST);
        b = node("b", FAST);
        TestHttp viaB = new TestHttp(b.port());
        try (EventStreamClient stream = EventStreamClient.open(a.port(), Map.of())) {
            assertEquals(200, stream.response().statusCode());
            assertEquals("text/event-stream; charset=utf-8",
                    stream.response().headers().firstValue("Content-Type").orElse(""));
            assertEquals("no-store", stream.response().headers().firstValue("Cache-Control").orElse(""));
            await().atMost(WAIT).until(() -> stream.events(":").stream().anyMatch(e -> e.data().equals("node a")));

            long id = create(viaB, "ann", "written through b");
            EventStreamClient.Event created = stream.await("post", "written through b", WAIT);
            JsonNode post = JSON.readTree(created.data());
            assertEquals(id, post.get("id").asLong());
            assertEquals("ann", post.get("author").asText());
            assertEquals(1, post.get("version").asInt());

            assertEquals(200, viaB.putJson("/posts/" + id, "{\"text\":\"edited through b\"}").statusCode());
            EventStreamClient.Event edited = stream.await("post", "edited through b", WAIT);
            assertEquals(2, JSON.readTree(edited.data()).get("version").asInt());
            assertTrue(Long.parseLong(edited.id()) > Long.parseLong(created.id()), "ids are change-log seqs");

            assertEquals(204, viaB.delete("/posts/" + id).statusCode());
            EventStreamClient.Event deleted = stream.await("delete", "\"id\":" + id, WAIT);
            assertEquals("{\"id\":" + id + "}", deleted.data());
        }
        await().atMost(WAIT).until(() -> metric(a, "fulcrum_node_event_streams") == 0);
    }

    @Test
    void aReconnectWithLastEventIdGetsWhatItMissedFromEitherNode() throws Exception {
        a = node("a", FAST);
        TestHttp viaA = new TestHttp(a.port());
        String lastSeen;
        try (EventStreamClient stream = EventStreamClient.open(a.port(), Map.of())) {
            create(viaA, "ann", "seen");
            lastSeen = stream.await("post", "\"seen\"", WAIT).id();
        }
        b = node("b", FAST);
        create(viaA, "ann", "missed one");
        create(viaA, "ann", "missed two");
        // b started before the two it replays; it saw them in the change log.
        try (EventStreamClient resumed = EventStreamClient.open(b.port(), Map.of("Last-Event-ID", lastSeen))) {
            resumed.await("post", "missed two", WAIT);
            assertEquals(2, resumed.events("post").size(), resumed.events().toString());
            assertTrue(resumed.events("post").get(0).data().contains("missed one"), "in order");
        }
        // An id from before b started is more than b knows: it says reset, with the id to go on from.
        try (EventStreamClient tooOld = EventStreamClient.open(b.port(), Map.of("Last-Event-ID", "0"))) {
            EventStreamClient.Event reset = tooOld.await("reset", "", WAIT);
            assertTrue(Long.parseLong(reset.id()) > Long.parseLong(lastSeen), reset.toString());
            assertTrue(tooOld.events("post").isEmpty());
        }
    }

    @Test
    void heartbeatsFlowWhileNothingHappens() throws Exception {
        a = node("a", new EventsConfig(Duration.ofMillis(50), Duration.ofMillis(50), 10));
        try (EventStreamClient stream = EventStreamClient.open(a.port(), Map.of())) {
            await().atMost(WAIT).until(() -> stream.events(":").stream().filter(e -> e.data().isEmpty()).count() >= 5);
            assertTrue(stream.events("post").isEmpty());
        }
    }

    @Test
    void streamsPastTheLimitAreRefusedUntilOneCloses() throws Exception {
        a = node("a", new EventsConfig(Duration.ofMillis(50), Duration.ofSeconds(30), 1));
        TestHttp viaA = new TestHttp(a.port());
        try (EventStreamClient first = EventStreamClient.open(a.port(), Map.of())) {
            assertEquals(200, first.response().statusCode());
            HttpResponse<String> refused = viaA.get("/events");
            assertEquals(503, refused.statusCode());
            assertTrue(refused.body().contains("events.max-streams"), refused.body());
            assertEquals("5", refused.headers().firstValue("Retry-After").orElse(""));
            assertEquals(1, metric(a, "fulcrum_node_event_streams"));
            assertEquals(0, metric(a, "fulcrum_node_in_flight"), "a stream is not a request in flight");
        }
        await().atMost(WAIT).until(() -> metric(a, "fulcrum_node_event_streams") == 0);
        try (EventStreamClient again = EventStreamClient.open(a.port(), Map.of())) {
            assertEquals(200, again.response().statusCode());
        }
    }

    @Test
    void streamsCostTheStoreNothingTheNodesOneWatcherReadsForThemAll() throws Exception {
        AtomicInteger feedReads = new AtomicInteger();
        // Polls an hour apart: after the first, any read of the change log would be a stream's own.
        NodeConfig config = TestNodes.sqlite("a", dir.resolve("posts.db"))
                .withEvents(new EventsConfig(Duration.ofHours(1), Duration.ofSeconds(30), 50));
        a = Node.start(config, registry -> counting(PostStores.open(config.store(), config.id(), registry,
                Clock.systemUTC()), feedReads));
        await().atMost(WAIT).until(() -> feedReads.get() >= 2); // the first poll: lastChange, changesSince
        int before = feedReads.get();
        List<EventStreamClient> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                streams.add(EventStreamClient.open(a.port(), Map.of()));
            }
            for (EventStreamClient s : streams) {
                await().atMost(WAIT).until(() -> !s.events(":").isEmpty());
            }
            assertEquals(20, metric(a, "fulcrum_node_event_streams"));
            assertEquals(before, feedReads.get(), "no stream read the change log");
        } finally {
            streams.forEach(EventStreamClient::close);
        }
    }

    /** {@code store}, counting its reads of the change log in {@code reads}. */
    private static PostStore counting(PostStore store, AtomicInteger reads) {
        return (PostStore) Proxy.newProxyInstance(PostStore.class.getClassLoader(), new Class<?>[] {PostStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("changesSince") || method.getName().equals("lastChange")) {
                        reads.incrementAndGet();
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A gauge's value from the node's /metrics. */
    private static double metric(Node node, String name) {
        TestHttp admin = new TestHttp(node.adminPort());
        String text = admin.send(admin.request("/metrics").GET().build()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError(name + " not in /metrics");
    }
}
