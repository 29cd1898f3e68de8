package io.fulcrum.balancer.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End-to-end proxying over real loopback sockets: the balancer in front of three
 * {@link ScriptedBackend}s, driven by {@link HttpClient} and by a raw socket client. The same cases
 * run with one event loop (every client and backend connection on one thread) and with several.
 */
class ProxyEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Nested
    class OneEventLoop extends Cases {
        OneEventLoop() {
            super(1);
        }
    }

    @Nested
    class FourEventLoops extends Cases {
        FourEventLoops() {
            super(4);
        }
    }

    abstract static class Cases {
        private final int loops;
        private final List<ScriptedBackend> backends = new ArrayList<>();
        private Balancer balancer;
        private HttpClient http;

        Cases(int loops) {
            this.loops = loops;
        }

        @BeforeEach
        void start() throws Exception {
            BalancerYaml config = BalancerYaml.forProxy().set("headers.request-id", "any");
            for (int i = 1; i <= 3; i++) {
                ScriptedBackend b = ScriptedBackend.echo("n" + i);
                backends.add(b);
                config.backend(b.port());
            }
            balancer = new Balancer(config.config(), loops).start();
            http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
        }

        @AfterEach
        void stop() throws Exception {
            if (balancer != null) {
                balancer.stop(Duration.ZERO);
            }
            backends.forEach(ScriptedBackend::close);
        }

        private URI uri(String path) {
            return URI.create("http://127.0.0.1:" + balancer.port() + path);
        }

        private RawHttpClient raw() throws IOException {
            return RawHttpClient.connect(balancer.port(), 5000);
        }

        private int backendRequests() {
            return backends.stream().mapToInt(ScriptedBackend::requests).sum();
        }

        private int backendConnections() {
            return backends.stream().mapToInt(ScriptedBackend::connections).sum();
        }

        private static long crc(byte[] b) {
            CRC32 crc = new CRC32();
            crc.update(b);
            return crc.getValue();
        }

        @ParameterizedTest
        @ValueSource(strings = {"GET", "POST", "PUT", "DELETE"})
        void forwardsMethodUriAndBodyIntact(String method) throws Exception {
            byte[] body = new byte[100_000];
            new Random(42).nextBytes(body);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/items/7?q=a%20b"))
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode echo = JSON.readTree(r.body());
            assertEquals(method, echo.get("method").asText());
            assertEquals("/items/7?q=a%20b", echo.get("uri").asText());
            assertEquals(body.length, echo.get("bodyLength").asLong());
            assertEquals(crc(body), echo.get("bodyCrc32").asLong());
            assertEquals(1, backendRequests());
        }

        @Test
        void spreadsSequentialRequestsOverTheBackendsAndAnswersEachOnce() throws Exception {
            List<String> servedBy = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/r" + i)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("/r" + i, JSON.readTree(r.body()).get("uri").asText());
                servedBy.add(r.headers().firstValue("X-Backend-Name").orElseThrow());
            }
            assertEquals(12, backendRequests());
            assertTrue(servedBy.stream().distinct().count() >= 2, "served by " + servedBy);
        }

        @Test
        void streamsAChunkedRequestBodyToTheBackend() throws Exception {
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            StringBuilder req = new StringBuilder("POST /upload HTTP/1.1\r\nHost: example.test\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            Random random = new Random(7);
            for (int i = 0; i < 20; i++) {
                int size = 1 + random.nextInt(5000);
                byte[] chunk = new byte[size];
                for (int j = 0; j < size; j++) {
                    chunk[j] = (byte) ('a' + random.nextInt(26));
                }
                expected.write(chunk);
                req.append(Integer.toHexString(size)).append("\r\n")
                        .append(new String(chunk, StandardCharsets.ISO_8859_1)).append("\r\n");
            }
            req.append("0\r\n\r\n");
            try (RawHttpClient c = raw()) {
                RawHttpClient.Response r = c.send(req.toString()).readResponse();
                assertEquals(200, r.status(), r.bodyText());
                JsonNode echo = JSON.readTree(r.body());
                assertEquals(expected.size(), echo.get("bodyLength").asLong());
                assertEquals(crc(expected.toByteArray()), echo.get("bodyCrc32").asLong());
                assertEquals("chunked", echo.get("headers").get("transfer-encoding").get(0).asText());
            }
        }

        @Test
        void streamsAChunkedResponseToTheClient() throws Exception {
            int n = 3 * 1024 * 1024 + 17;
            try (RawHttpClient c = raw()) {
                RawHttpClient.Response r = c.send("GET /s?bytes=" + n + "&chunked=true HTTP/1.1\r\nHost: a\r\n\r\n")
                        .readResponse();
                assertEquals(200, r.status());
                assertEquals("chunked", r.header("transfer-encoding"));
                assertEquals(n, r.body().length);
                assertEquals(ScriptedBackend.expectedCrc32(n), crc(r.body()));
                // the connection is still usable afterwards
                RawHttpClient.Response second = c.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
                assertEquals(200, second.status());
            }
        }

        @Test
        void keepsContentLengthFramingOfAResponse() throws Exception {
            int n = 2 * 1024 * 1024;
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri("/s?bytes=" + n)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            assertEquals(String.valueOf(n), r.headers().firstValue("content-length").orElseThrow());
            assertEquals(ScriptedBackend.expectedCrc32(n), crc(r.body()));
        }

        @Test
        void answersHeadWithoutABodyAndKeepsTheConnectionInStep() throws Exception {
            try (RawHttpClient c = raw()) {
                RawHttpClient.Response head = c.send("HEAD /s?bytes=5000 HTTP/1.1\r\nHost: a\r\n\r\n")
                        .readResponse(true);
                assertEquals(200, head.status());
                assertEquals("5000", head.header("content-length"));
                RawHttpClient.Response next = c.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
                assertEquals(200, next.status());
                assertEquals("/next", JSON.readTree(next.body()).get("uri").asText());
            }
        }

        @Test
        void servesAnHttp10ClientAndClosesWithoutKeepAlive() throws Exception {
            try (RawHttpClient c = raw()) {
                RawHttpClient.Response r = c.send("GET /old HTTP/1.0\r\n\r\n").readResponse();
                assertEquals(200, r.status());
                assertEquals("/old", JSON.readTree(r.body()).get("uri").asText());
                assertTrue(c.isClosedByPeer(), "HTTP/1.0 without keep-alive must be closed");
            }
        }

        @Test
        void keepsAnHttp10ConnectionThatAsksForKeepAlive() throws Exception {
            try (RawHttpClient c = raw()) {
                RawHttpClient.Response r = c.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                        .readResponse();
                assertEquals(200, r.status());
                assertTrue(r.statusLine().startsWith("HTTP/1."), r.statusLine());
                assertEquals("keep-alive", r.header("connection").toLowerCase(java.util.Locale.ROOT));
                assertNull(r.header("transfer-encoding"), "HTTP/1.0 clients never get chunked framing");
                RawHttpClient.Response second = c.send("GET /two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                        .readResponse();
                assertEquals("/two", JSON.readTree(second.body()).get("uri").asText());
            }
        }

        @Test
        void givesAnHttp10ClientAChunkedBackendResponseCloseDelimited() throws Exception {
            int n = 300_000;
            try (RawHttpClient c = raw()) {
                RawHttpClient.Response r = c.send("GET /s?bytes=" + n + "&chunked=true HTTP/1.0\r\n"
                        + "Connection: keep-alive\r\n\r\n").readResponse();
                assertEquals(200, r.status());
                assertNull(r.header("transfer-encoding"));
                assertEquals(n, r.body().length);
                assertEquals(ScriptedBackend.expectedCrc32(n), crc(r.body()));
            }
        }

        @Test
        void answersPipelinedRequestsInOrder() throws Exception {
            try (RawHttpClient c = raw()) {
                // The first answer is the slowest, so answering out of order would show.
                c.send("GET /p1?delayMs=300 HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "POST /p2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                        + "GET /p3 HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "GET /p4?bytes=70000 HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "GET /p5 HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals("/p1?delayMs=300", JSON.readTree(c.readResponse().body()).get("uri").asText());
                JsonNode p2 = JSON.readTree(c.readResponse().body());
                assertEquals("/p2", p2.get("uri").asText());
                assertEquals(5, p2.get("bodyLength").asInt());
                assertEquals("/p3", JSON.readTree(c.readResponse().body()).get("uri").asText());
                assertEquals(70000, c.readResponse().body().length);
                assertEquals("/p5", JSON.readTree(c.readResponse().body()).get("uri").asText());
            }
            assertEquals(5, backendRequests());
        }

        @Test
        void reusesBackendConnectionsAcrossSequentialRequests() throws Exception {
            int n = 60;
            try (RawHttpClient c = raw()) {
                for (int i = 0; i < n; i++) {
                    RawHttpClient.Response r = c.send("GET /k" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
                    assertEquals(200, r.status());
                }
            }
            assertEquals(n, backendRequests());
            // One client connection lives on one event loop: at most one connection per backend.
            assertTrue(backendConnections() <= backends.size(), "backend connections: " + backendConnections());
        }

        @Test
        void removesHopByHopHeadersAndAddsForwardingHeaders() throws Exception {
            try (RawHttpClient c = raw()) {
                RawHttpClient.Response r = c.send("GET /h HTTP/1.1\r\nHost: shop.example:8080\r\n"
                        + "Connection: keep-alive, X-Drop-Me\r\nX-Drop-Me: secret\r\nKeep-Alive: timeout=5\r\n"
                        + "Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\n"
                        + "X-Forwarded-For: 203.0.113.9\r\nVia: 1.1 edge\r\nX-Kept: yes\r\n\r\n").readResponse();
                assertEquals(200, r.status());
                JsonNode h = JSON.readTree(r.body()).get("headers");
                for (String gone : List.of("connection", "x-drop-me", "keep-alive", "proxy-connection", "te",
                        "upgrade", "transfer-encoding", "trailer")) {
                    assertFalse(h.has(gone), gone + " reached the backend: " + h);
                }
                assertEquals("yes", h.get("x-kept").get(0).asText());
                assertEquals(1, h.get("x-forwarded-for").size());
                assertEquals("203.0.113.9, 127.0.0.1", h.get("x-forwarded-for").get(0).asText());
                assertEquals("http", h.get("x-forwarded-proto").get(0).asText());
                assertEquals("shop.example:8080", h.get("x-forwarded-host").get(0).asText());
                assertEquals("shop.example:8080", h.get("host").get(0).asText());
                assertEquals("1.1 edge, 1.1 fulcrum", h.get("via").get(0).asText());
                String id = h.get("x-request-id").get(0).asText();
                assertTrue(id.matches("[0-9a-f]{32}"), id);
                assertEquals(id, r.header("x-request-id"));
                assertNotNull(r.header("via"));
            }
        }

        @Test
        void withRequestIdAnyKeepsTheClientsRequestIdAndEchoesIt() throws Exception {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/id"))
                    .header("X-Request-Id", "abc-123").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("abc-123", JSON.readTree(r.body()).get("headers").get("x-request-id").get(0).asText());
            assertEquals("abc-123", r.headers().firstValue("x-request-id").orElseThrow());
        }

        @Test
        void generatesDistinctRequestIds() throws Exception {
            String a = http.send(HttpRequest.newBuilder(uri("/a")).build(), HttpResponse.BodyHandlers.discarding())
                    .headers().firstValue("x-request-id").orElseThrow();
            String b = http.send(HttpRequest.newBuilder(uri("/b")).build(), HttpResponse.BodyHandlers.discarding())
                    .headers().firstValue("x-request-id").orElseThrow();
            assertFalse(a.equals(b), a);
        }

        @Test
        void servesManyConcurrentClients() throws Exception {
            List<java.util.concurrent.CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
            HttpClient pooled = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            byte[] body = "x".repeat(20_000).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 40; i++) {
                all.add(pooled.sendAsync(HttpRequest.newBuilder(uri("/c" + i + "?bytes=" + (1000 * i)))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofByteArray()));
            }
            for (int i = 0; i < all.size(); i++) {
                HttpResponse<byte[]> r = all.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertEquals(1000 * i, r.body().length);
                byte[] expected = new byte[1000 * i];
                fillExpected(expected);
                assertArrayEquals(expected, r.body());
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(40, backendRequests()));
        }

        private static void fillExpected(byte[] b) {
            for (int i = 0; i < b.length; i++) {
                long p = i;
                b[i] = (byte) (p * 31 + (p >>> 13));
            }
        }
    }
}
