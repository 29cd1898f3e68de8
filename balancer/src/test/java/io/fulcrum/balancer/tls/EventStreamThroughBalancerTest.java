package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.node.Node;
import io.fulcrum.node.config.EventsConfig;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.NodeLimitsConfig;
import io.fulcrum.node.config.NodeListenConfig;
import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A post server's event stream ({@code GET /events}, Server-Sent Events) through a real balancer,
 * over real sockets, with HTTP/1.1 on the cleartext port and HTTP/2 (ALPN) on the TLS port: each
 * event reaches the client while the stream stays open, before the next change is even made (the
 * balancer relays and flushes each piece as it reads it), and a stream that carries only
 * heartbeats outlives {@code timeouts.response} twice and {@code backend-idle} and
 * {@code client-idle} several times over. The control: a node whose heartbeats are rarer than {@code backend-idle}
 * has its stream cut by the balancer, which is why the node's heartbeat must stay below it.
 */
class EventStreamThroughBalancerTest {
    /** The idle timeouts that could cut a stream, short. */
    private static final Duration SHORT = Duration.ofMillis(600);
    /**
     * The response timeout, short too, with room for the head to come on a busy machine: it
     * bounds only the wait for the head, which a stream sends at once.
     */
    private static final Duration RESPONSE = Duration.ofSeconds(2);
    /** How many heartbeats (each {@link #BEAT} apart) prove the stream outlived every timeout. */
    private static final int BEATS = 40;
    private static final Duration BEAT = Duration.ofMillis(50);

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final SSLContext trustingTestCa = TestCertificates.trustingTestCa();

    private Node node(Duration heartbeat) throws InterruptedException {
        NodeConfig config = new NodeConfig("sse-node", "local", new NodeListenConfig("127.0.0.1", 0),
                StoreConfig.sqlite(fx.dir().resolve("posts.db")), NodeLimitsConfig.DEFAULTS, null,
                new EventsConfig(Duration.ofMillis(50), heartbeat, 100));
        return fx.closeAfter(Node.start(config));
    }

    private Balancer balancer(Node node) throws Exception {
        return fx.balancer(BalancerYaml.forProxy().backend("n1", node.port())
                .set("timeouts.response", RESPONSE).set("timeouts.backend-idle", SHORT)
                .set("timeouts.client-idle", SHORT)
                .merge(TestCertificates.tlsSection(fx.dir())));
    }

    private HttpClient client(HttpClient.Version version) {
        return HttpClient.newBuilder().sslContext(trustingTestCa).version(version)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** HTTP/1.1 in clear text on the plain port, HTTP/2 over TLS (ALPN h2) on the TLS port. */
    @ParameterizedTest(name = "over {0}")
    @EnumSource(HttpClient.Version.class)
    void eachEventArrivesAsItIsSent(HttpClient.Version version) throws Exception {
        Node node = node(BEAT);
        Balancer balancer = balancer(node);
        String base = switch (version) {
            case HTTP_1_1 -> "http://127.0.0.1:" + balancer.port();
            case HTTP_2 -> "https://localhost:" + balancer.tlsPort();
        };
        eventsArriveOneByOneAndHeartbeatsKeepTheStream(balancer, version, base);
    }

    private void eventsArriveOneByOneAndHeartbeatsKeepTheStream(Balancer balancer, HttpClient.Version version,
            String base) throws Exception {
        HttpClient client = client(version);
        // A first request warms both JVM paths up, so that the stream's head meets the short
        // response timeout on a cold, busy machine too.
        assertEquals(200, client.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        try (Stream stream = Stream.open(client, base)) {
            assertEquals(200, stream.response.statusCode());
            assertEquals(version, stream.response.version());
            assertEquals("text/event-stream; charset=utf-8",
                    stream.response.headers().firstValue("content-type").orElse(""));

            // Heartbeats only, for several times every timeout of the balancer.
            await().atMost(Fixtures.WAIT).until(() -> stream.count(":") >= BEATS);
            for (int i = 1; i <= 3; i++) {
                String text = "event " + i + " over " + version;
                HttpResponse<String> created = client.send(HttpRequest.newBuilder(URI.create(base + "/posts"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"ann\",\"text\":\"" + text + "\"}"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(201, created.statusCode(), created.body());
                // The event arrives while the stream is open, before the next post exists.
                await("event " + i).atMost(Fixtures.WAIT).until(() -> stream.lines.contains("data: " + dataOf(created)));
                assertTrue(!stream.ended, "still open");
            }
            int beats = stream.count(":");
            await().atMost(Fixtures.WAIT).until(() -> stream.count(":") >= beats + BEATS);
            assertTrue(!stream.ended, "still open after more heartbeats");
            assertEquals(1, balancer.registry().current().byId("n1").state().inFlight(), "the stream holds its try");
        }
    }

    @Test
    void withoutHeartbeatsWithinBackendIdleTheBalancerCutsTheStream() throws Exception {
        Node node = node(Duration.ofSeconds(59));
        Balancer balancer = balancer(node);
        try (Stream stream = Stream.open(client(HttpClient.Version.HTTP_1_1), "http://127.0.0.1:" + balancer.port())) {
            assertEquals(200, stream.response.statusCode());
            await("cut after backend-idle").atMost(Fixtures.WAIT).until(() -> stream.ended);
        }
    }

    /** The post's JSON as the node writes it, which is the event's data line. */
    private static String dataOf(HttpResponse<String> created) {
        return created.body().strip();
    }

    /** An open event stream whose lines are collected as they arrive, by a thread of its own. */
    private static final class Stream implements AutoCloseable {
        final HttpResponse<java.util.stream.Stream<String>> response;
        final List<String> lines = new CopyOnWriteArrayList<>();
        volatile boolean ended;

        private Stream(HttpResponse<java.util.stream.Stream<String>> response) {
            this.response = response;
            Thread reader = new Thread(() -> {
                try (java.util.stream.Stream<String> body = response.body()) {
                    body.forEach(lines::add);
                } catch (RuntimeException e) {
                    // Cut, or closed by the test.
                } finally {
                    ended = true;
                }
            }, "sse-reader");
            reader.setDaemon(true);
            reader.start();
        }

        static Stream open(HttpClient client, String base) throws Exception {
            return new Stream(client.sendAsync(HttpRequest.newBuilder(URI.create(base + "/events")).build(),
                    HttpResponse.BodyHandlers.ofLines()).get(20, TimeUnit.SECONDS));
        }

        /** Lines starting with {@code prefix}. */
        int count(String prefix) {
            return (int) lines.stream().filter(l -> l.startsWith(prefix)).count();
        }

        @Override
        public void close() {
            response.body().close();
        }
    }
}
