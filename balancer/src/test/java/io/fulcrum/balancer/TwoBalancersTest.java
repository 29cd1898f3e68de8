package io.fulcrum.balancer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.NodeProcess;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.Writers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two balancers in front of one pool, as a fleet runs behind DNS or an L4 balancer: a backend kept
 * busy by balancer A reports it in its health answer, and balancer B sends it less; a client that
 * retries on the other balancer when one dies loses no request and, with an Idempotency-Key, makes
 * no duplicate. (The fleet-wide rate limit they share is {@code FleetRateLimitTest}'s.)
 */
class TwoBalancersTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static Backend backend(Balancer b, String id) {
        return b.registry().current().backends().stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void aBackendKeptBusyByOneBalancerGetsLessFromTheOther() throws Exception {
        // Each request a backend holds adds 0.05 to the load it reports, as the post server's load
        // grows with the calls its store workers run.
        ScriptedBackend b1 = fx.backend("b1").load(0).loadPerHeldRequest(0.05);
        ScriptedBackend b2 = fx.backend("b2").load(0).loadPerHeldRequest(0.05);
        BalancerYaml yaml = BalancerYaml.frequentChecks().backends(b1, b2).set("routing.policy", "least-busy")
                .set("routing.slow-start", "0s").set("timeouts.response", "120s");
        Balancer a = fx.balancer(yaml.config());
        Balancer b = fx.balancer(yaml.config());
        await().atMost(Fixtures.WAIT).until(() -> a.ready() && b.ready());

        // The backends answer warm, so that B's first answers from them are as fast as the later
        // ones: least-busy weighs latency before load, and a first answer that came slowly from a
        // cold backend would set b2 apart for longer than this test runs.
        for (ScriptedBackend backend : List.of(b1, b2)) {
            try (RawHttpClient c = RawHttpClient.connect(backend.port(), 10_000)) {
                for (int i = 0; i < 300; i++) {
                    assertEquals(200, c.get("/warm").status());
                }
            }
        }
        // B has answers from both (a backend that never answered is tried first, whatever its load),
        // and its latency averages of the two are within least-busy's equal band, as the two are
        // equally fast. The warm-up runs several requests at once, so that a backend one slow
        // early answer set apart still gets its share of them (requests in flight weigh too) and
        // the answers that follow correct its average; one at a time, B would send it none.
        await().atMost(Fixtures.WAIT).until(() -> {
            Fixtures.getsWithoutFailures(b, "/warm", 4, 200);
            long now = System.nanoTime();
            double l1 = backend(b, "b1").state().latencyMeanNanos(now);
            double l2 = backend(b, "b2").state().latencyMeanNanos(now);
            return l1 > 0 && l2 > 0 && Math.max(l1, l2) < 1.5 * Math.min(l1, l2);
        });

        // A sends everything to b1 (b2 drained there) and keeps 16 slow requests on it.
        try (RawHttpClient admin = RawHttpClient.connect(a.adminPort(), 10_000)) {
            assertEquals(200, admin.send("POST /backends/b2/drain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 0\r\n\r\n")
                    .readResponse().status());
        }
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(fx.closeAfter(new ClosingExecutor())).build();
        for (int i = 0; i < 16; i++) {
            client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + "/slow?delayMs=60000"))
                    .build(), HttpResponse.BodyHandlers.discarding());
        }
        await().atMost(Fixtures.WAIT).untilAsserted(() -> assertEquals(16, b1.busy(), "busy on b1"));
        // B has none of those in flight; it knows of them only from b1's health answers.
        await().atMost(Fixtures.WAIT).until(() -> backend(b, "b1").state().reportedLoad() >= 0.75);
        assertEquals(0, backend(b, "b1").state().inFlight());

        int b1Before = b1.requests();
        int b2Before = b2.requests();
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            for (int i = 0; i < 30; i++) {
                assertEquals(200, c.get("/fast").status());
            }
        }
        int toB1 = b1.requests() - b1Before;
        int toB2 = b2.requests() - b2Before;
        System.out.println("balancer B with b1 kept busy by balancer A: b1 " + toB1 + ", b2 " + toB2 + " of 30");
        assertEquals(30, toB1 + toB2);
        assertTrue(toB1 * 2 < toB2, "the busy backend got less from B: b1 " + toB1 + ", b2 " + toB2);
    }

    @Test
    void aClientThatRetriesOnTheOtherBalancerLosesNothingWhenOneDies() throws Exception {
        NodeProcess[] nodes = fx.nodes(2);
        BalancerYaml yaml = BalancerYaml.frequentChecks().backends(nodes).set("routing.policy", "least-busy");
        List<Balancer> fleet = List.of(fx.balancer(yaml.config()), fx.balancer(yaml.config()));
        await().atMost(Duration.ofSeconds(60)).until(() -> fleet.get(0).ready() && fleet.get(1).ready());

        int writers = 4;
        int perWriter = 20;
        AtomicInteger written = new AtomicInteger();
        AtomicInteger retried = new AtomicInteger();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        try (Writers loops = Writers.start(writers, writer -> {
            for (int i = 0; i < perWriter; i++) {
                String key = "w" + writer + "-" + i;
                // Spread over both balancers, as DNS with two addresses spreads clients.
                int first = (writer + i) % 2;
                int tries = 0;
                while (!post(client, fleet.get((first + tries) % 2), key)) {
                    retried.incrementAndGet();
                    if (++tries == 6) {
                        throw new AssertionError("neither balancer took " + key);
                    }
                }
                written.incrementAndGet();
            }
        })) {
            // Half-way through, balancer A dies (its connections closed at once, no drain).
            await().atMost(Duration.ofSeconds(60)).until(() -> written.get() >= writers * perWriter / 2);
            fleet.get(0).stop(Duration.ZERO);
            loops.join();
        }
        assertEquals(writers * perWriter, written.get());

        // Every post exists once: read back through the balancer that is left.
        HttpResponse<String> timeline = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + fleet.get(1).port() + "/timeline?author=fleet&limit=100")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, timeline.statusCode(), timeline.body());
        Set<String> texts = new HashSet<>();
        int posts = 0;
        for (JsonNode p : JSON.readTree(timeline.body()).get("posts")) {
            posts++;
            texts.add(p.get("text").asText());
        }
        System.out.println("two balancers, one killed under 4 writers: " + posts + " posts of " + written.get()
                + ", " + retried.get() + " sent again on the other balancer");
        assertEquals(writers * perWriter, texts.size(), "no write lost");
        assertEquals(writers * perWriter, posts, "no write made twice");
    }

    /**
     * POSTs the post {@code key} with {@code Idempotency-Key: key}; whether the balancer answered 201
     * or 200 (the same post, already made). A refused connection, a reset, or a 5xx is {@code false}:
     * the caller sends it again elsewhere with the same key.
     */
    private static boolean post(HttpClient client, Balancer to, String key) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to.port()
                    + "/posts")).timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                    .header("Idempotency-Key", key)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"fleet\",\"text\":\"" + key + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 201 || r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The HTTP client's executor, shut down after the test. */
    private static final class ClosingExecutor implements java.util.concurrent.Executor, AutoCloseable {
        private final ExecutorService delegate = Executors.newCachedThreadPool();

        @Override
        public void execute(Runnable command) {
            delegate.execute(command);
        }

        @Override
        public void close() {
            delegate.shutdownNow();
        }
    }
}
