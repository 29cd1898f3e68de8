package io.fulcrum.node.http;

import static io.fulcrum.testing.ApiErrors.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.testing.CreateRace;
import io.fulcrum.testing.FreshNode;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every route and every error of the post API, over real loopback sockets against a fresh node. */
class PostApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final FreshNode fresh = new FreshNode();
    private final TestHttp http = fresh.http();

    @Test
    void createAnswers201WithLocationEtagAndThePost() throws IOException {
        HttpResponse<String> r = http.postJson("/posts", "{\"author\":\"frank\",\"text\":\"hello\"}");
        assertEquals(201, r.statusCode());
        JsonNode post = JSON.readTree(r.body());
        long id = post.get("id").asLong();
        assertEquals("/posts/" + id, r.headers().firstValue("Location").orElseThrow());
        assertEquals("\"1\"", r.headers().firstValue("ETag").orElseThrow());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("frank", post.get("author").asText());
        assertEquals("hello", post.get("text").asText());
        assertEquals(1, post.get("version").asLong());
        assertEquals(post.get("createdAt"), post.get("updatedAt"));
    }

    @Test
    void getAnswersThePostWithItsEtag() throws IOException {
        long id = create("frank", "hello");
        HttpResponse<String> r = http.get("/posts/" + id);
        assertEquals(200, r.statusCode());
        assertEquals("\"1\"", r.headers().firstValue("ETag").orElseThrow());
        assertEquals("hello", JSON.readTree(r.body()).get("text").asText());
    }

    @Test
    void unknownPostIsA404WithAJsonError() throws IOException {
        assertError(http.get("/posts/999"), 404, "not_found", null);
        assertError(http.get("/posts/abc"), 404, "not_found", null);
        assertError(http.get("/posts/0"), 404, "not_found", null);
        assertError(http.putJson("/posts/999", "{\"text\":\"x\"}"), 404, "not_found", null);
        assertError(http.delete("/posts/999"), 404, "not_found", null);
    }

    @Test
    void unknownPathIsA404() throws IOException {
        assertError(http.get("/nope"), 404, "not_found", null);
        assertError(http.get("/posts/1/comments"), 404, "not_found", null);
    }

    @Test
    void putReplacesTheTextAndBumpsTheEtag() throws IOException {
        long id = create("frank", "v1");
        HttpResponse<String> r = http.send(http.request("/posts/" + id).header("Content-Type", "application/json")
                .header("If-Match", "\"1\"").PUT(HttpRequest.BodyPublishers.ofString("{\"text\":\"v2\"}")).build());
        assertEquals(200, r.statusCode());
        assertEquals("\"2\"", r.headers().firstValue("ETag").orElseThrow());
        JsonNode post = JSON.readTree(r.body());
        assertEquals("v2", post.get("text").asText());
        assertEquals("frank", post.get("author").asText());
        assertEquals("v2", JSON.readTree(http.get("/posts/" + id).body()).get("text").asText());
        assertEquals(200, http.putJson("/posts/" + id, "{\"text\":\"v3 without If-Match\"}").statusCode());
    }

    @Test
    void putWithAStaleIfMatchIs412AndChangesNothing() throws IOException {
        long id = create("frank", "v1");
        http.putJson("/posts/" + id, "{\"text\":\"v2\"}");
        HttpResponse<String> r = http.send(http.request("/posts/" + id).header("Content-Type", "application/json")
                .header("If-Match", "\"1\"").PUT(HttpRequest.BodyPublishers.ofString("{\"text\":\"lost\"}")).build());
        assertError(r, 412, "precondition_failed", "If-Match");
        assertEquals("\"2\"", r.headers().firstValue("ETag").orElseThrow());
        assertEquals("v2", JSON.readTree(http.get("/posts/" + id).body()).get("text").asText());
        HttpResponse<String> garbage = http.send(http.request("/posts/" + id)
                .header("Content-Type", "application/json").header("If-Match", "W/\"2\"")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"text\":\"weak\"}")).build());
        assertEquals(412, garbage.statusCode(), "a weak tag never matches (RFC 9110 13.1.1)");
    }

    @Test
    void deleteAnswers204AndThePostIsGone() {
        long id = create("frank", "bye");
        HttpResponse<String> r = http.delete("/posts/" + id);
        assertEquals(204, r.statusCode());
        assertEquals("", r.body());
        assertEquals(404, http.get("/posts/" + id).statusCode());
        assertEquals(404, http.delete("/posts/" + id).statusCode());
    }

    @Test
    void deleteWithAStaleIfMatchIs412AndKeepsThePost() throws IOException {
        long id = create("frank", "keep");
        HttpResponse<String> r = http.send(http.request("/posts/" + id).header("If-Match", "\"5\"").DELETE().build());
        assertError(r, 412, "precondition_failed", "If-Match");
        assertEquals(200, http.get("/posts/" + id).statusCode());
        assertEquals(204, http.send(http.request("/posts/" + id).header("If-Match", "\"1\"").DELETE().build())
                .statusCode());
    }

    @Test
    void timelineIsNewestFirstFiltersByAuthorAndPagesWithAnOpaqueCursor() throws IOException {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add(create(i % 2 == 0 ? "ann" : "bob", "post " + i));
        }
        JsonNode first = JSON.readTree(http.get("/timeline?limit=5").body());
        assertEquals(5, first.get("posts").size());
        assertEquals(ids.get(11).longValue(), first.get("posts").get(0).get("id").asLong());
        List<Long> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = JSON.readTree(http.get("/timeline?limit=5"
                    + (cursor == null ? "" : "&cursor=" + cursor)).body());
            page.get("posts").forEach(p -> seen.add(p.get("id").asLong()));
            cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
        } while (cursor != null);
        List<Long> expected = new ArrayList<>(ids);
        java.util.Collections.reverse(expected);
        assertEquals(expected, seen);

        JsonNode ann = JSON.readTree(http.get("/timeline?author=ann").body());
        assertEquals(6, ann.get("posts").size());
        ann.get("posts").forEach(p -> assertEquals("ann", p.get("author").asText()));
        assertTrue(ann.get("nextCursor").isNull());
        JsonNode defaults = JSON.readTree(http.get("/timeline").body());
        assertEquals(10, defaults.get("posts").size(), "default page size of the test node");
    }

    @ParameterizedTest
    @CsvSource({"limit=0,limit", "limit=51,limit", "limit=abc,limit", "cursor=bm9wZQ,cursor", "cursor=%25%25,cursor"})
    void badTimelineParametersAre400NamingTheParameter(String query, String field) throws IOException {
        assertError(http.get("/timeline?" + query), 400, "invalid_field", field);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"author\":\"frank\"                  | text",
        "{\"text\":\"hi\"}                      | author",
        "{\"author\":\"\",\"text\":\"hi\"}      | author",
        "{\"author\":\"frank\",\"text\":\"  \"} | text",
        "{\"author\":5,\"text\":\"hi\"}         | author",
        "{\"author\":\"frank\",\"text\":[1]}    | text",
        "{\"author\":\"frank\",\"text\":null}   | text",
    })
    void missingEmptyOrMistypedFieldsAre400NamingTheField(String body, String field) throws IOException {
        String json = body.endsWith("}") ? body : body + "}";
        assertError(http.postJson("/posts", json), 400, "invalid_field", field);
    }

    @Test
    void textOverTheLimitIs400NamingText() throws IOException {
        String text = "x".repeat(TestNodes.MAX_TEXT_CHARS + 1);
        assertError(http.postJson("/posts", "{\"author\":\"frank\",\"text\":\"" + text + "\"}"), 400,
                "invalid_field", "text");
        String exactly = "x".repeat(TestNodes.MAX_TEXT_CHARS);
        assertEquals(201, http.postJson("/posts", "{\"author\":\"frank\",\"text\":\"" + exactly + "\"}")
                .statusCode());
        long id = create("frank", "short");
        assertError(http.putJson("/posts/" + id, "{\"text\":\"" + text + "\"}"), 400, "invalid_field", "text");
    }

    @Test
    void unknownFieldsAre400NamingTheField() throws IOException {
        assertError(http.postJson("/posts", "{\"author\":\"a\",\"text\":\"b\",\"mood\":\"happy\"}"), 400,
                "unknown_field", "mood");
        long id = create("frank", "v1");
        assertError(http.putJson("/posts/" + id, "{\"text\":\"b\",\"author\":\"mallory\"}"), 400,
                "unknown_field", "author");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"{", "not json", "[1,2]", "\"text\"", "{\"author\":\"a\",\"text\":\"b\"} {}",
        "{\"author\":\"a\",\"author\":\"b\",\"text\":\"c\"}"})
    void malformedJsonIs400(String body) throws IOException {
        assertError(http.postJson("/posts", body), 400, "bad_json", null);
    }

    @Test
    void emptyBodyIs400() throws IOException {
        assertError(http.postJson("/posts", ""), 400, "bad_json", null);
    }

    @Test
    void bodyThatIsNotJsonIs415() throws IOException {
        assertError(http.send(http.request("/posts").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"a\",\"text\":\"b\"}")).build()),
                415, "unsupported_media_type", null);
        assertError(http.send(http.request("/posts")
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"a\",\"text\":\"b\"}")).build()),
                415, "unsupported_media_type", null);
        assertEquals(201, http.send(http.request("/posts").header("Content-Type", "Application/JSON; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"a\",\"text\":\"b\"}")).build())
                .statusCode());
    }

    @Test
    void bodyOverTheLimitIs413() throws IOException {
        String big = "{\"author\":\"frank\",\"text\":\"" + "x".repeat(TestNodes.MAX_BODY_BYTES) + "\"}";
        assertError(http.postJson("/posts", big), 413, "payload_too_large", null);
    }

    @Test
    void chunkedBodyOverTheLimitIs413() throws IOException {
        String chunk = "x".repeat(1000);
        StringBuilder raw = new StringBuilder("POST /posts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 4; i++) {
            raw.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        raw.append("0\r\n\r\n");
        String response = rawExchange(raw.toString(), 1);
        assertTrue(response.startsWith("HTTP/1.1 413"), response);
        assertTrue(response.contains("payload_too_large"), response);
    }

    @ParameterizedTest
    @CsvSource({"DELETE,/timeline,'GET, HEAD'", "GET,/posts,POST", "PUT,/posts,POST",
        "PATCH,/posts/1,'GET, HEAD, PUT, DELETE'", "POST,/posts/1,'GET, HEAD, PUT, DELETE'", "POST,/health,'GET, HEAD'",
        "POST,/,'GET, HEAD'"})
    void wrongMethodIs405WithAllow(String method, String path, String allow) throws IOException {
        HttpResponse<String> r = http.send(http.request(path).method(method, HttpRequest.BodyPublishers.noBody())
                .build());
        assertError(r, 405, "method_not_allowed", null);
        assertEquals(allow, r.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void repeatedIdempotencyKeyReturnsTheOriginalPost() throws IOException {
        HttpRequest req = http.request("/posts").header("Content-Type", "application/json")
                .header("Idempotency-Key", "abc-123")
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"frank\",\"text\":\"once\"}")).build();
        HttpResponse<String> first = http.send(req);
        HttpResponse<String> second = http.send(req);
        assertEquals(201, first.statusCode());
        assertEquals(200, second.statusCode());
        assertEquals(JSON.readTree(first.body()), JSON.readTree(second.body()));
        assertEquals(1, JSON.readTree(http.get("/timeline").body()).get("posts").size());
    }

    @Test
    void concurrentIdempotentPostsCreateExactlyOnePost() throws Exception {
        HttpRequest req = http.request("/posts").header("Content-Type", "application/json")
                .header("Idempotency-Key", "race-1")
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"frank\",\"text\":\"race\"}")).build();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(http.sendAsync(req));
        }
        CreateRace race = CreateRace.settle(all);
        assertEquals(1, race.created());
        assertEquals(1, race.ids().size());
        assertEquals(1, JSON.readTree(http.get("/timeline").body()).get("posts").size());
    }

    @Test
    void overlongIdempotencyKeyIs400() throws IOException {
        assertError(http.send(http.request("/posts").header("Content-Type", "application/json")
                .header("Idempotency-Key", "k".repeat(201))
                .POST(HttpRequest.BodyPublishers.ofString("{\"author\":\"a\",\"text\":\"b\"}")).build()),
                400, "invalid_field", "Idempotency-Key");
    }

    @Test
    void healthReportsNodeRegionInFlightAndLoad() throws IOException {
        HttpResponse<String> r = http.get("/health");
        assertEquals(200, r.statusCode());
        JsonNode h = JSON.readTree(r.body());
        assertEquals("UP", h.get("status").asText());
        assertEquals("n1", h.get("node").asText());
        assertEquals("us-east", h.get("region").asText());
        assertEquals(0, h.get("inFlight").asInt());
        double load = h.get("load").asDouble();
        assertTrue(load >= 0 && load <= 1, "load " + load);
    }

    @Test
    void metricsExposeRequestsByRouteAndStatusAndStorePoolsOnTheAdminPortOnly() throws IOException {
        create("frank", "counted");
        http.get("/posts/999");
        assertError(http.get("/metrics"), 404, "not_found", null);
        assertTrue(fresh.node().adminPort() > 0 && fresh.node().adminPort() != fresh.node().port());
        HttpResponse<String> r = new TestHttp(fresh.node().adminPort()).get("/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
        String text = r.body();
        assertTrue(text.contains("fulcrum_node_requests_seconds_count{method=\"POST\",route=\"/posts\",status=\"201\"} 1"),
                text);
        assertTrue(text.contains("route=\"/posts/{id}\",status=\"404\""), text);
        assertTrue(text.contains("fulcrum_node_requests_seconds_bucket"), "latency histogram");
        assertTrue(text.contains("hikaricp_connections_active"), "store pool usage");
        assertTrue(text.contains("fulcrum_node_load"), text);
    }

    @Test
    void rootServesTheTimelinePageAndItsAssets() {
        HttpResponse<String> page = http.get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
        assertTrue(page.body().contains("<script src=\"/app.js\">"));
        HttpResponse<String> js = http.get("/app.js");
        assertEquals(200, js.statusCode());
        assertTrue(js.headers().firstValue("Content-Type").orElseThrow().startsWith("text/javascript"));
        assertTrue(js.body().contains("/timeline"));
        assertEquals(200, http.get("/style.css").statusCode());
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        long a = create("frank", "first");
        long b = create("frank", "second");
        String req = "GET /posts/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        String raw = String.format(req, a) + "GET /timeline?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + String.format(req, b) + "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        String all = rawExchange(raw, 4);
        int first = all.indexOf("\"text\":\"first\"");
        int timeline = all.indexOf("\"posts\"");
        int second = all.lastIndexOf("\"text\":\"second\"");
        int missing = all.indexOf("not_found");
        assertTrue(first >= 0 && first < timeline && timeline < second && second < missing, all);
    }

    @Test
    void malformedRequestLineIs400() {
        String response = rawExchange("GET /posts/1 HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 1);
        assertTrue(response.startsWith("HTTP/1.1 400"), response);
    }

    private long create(String author, String text) {
        HttpResponse<String> r = http.postJson("/posts",
                "{\"author\":\"" + author + "\",\"text\":\"" + text + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        try {
            return JSON.readTree(r.body()).get("id").asLong();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Writes raw bytes and reads until the server closes or {@code responses} status lines arrived. */
    private String rawExchange(String request, int responses) {
        try (Socket socket = new Socket("127.0.0.1", fresh.node().port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder got = new StringBuilder();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                if (countStatusLines(got) >= responses && completeBodies(got)) {
                    break;
                }
            }
            return got.toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int countStatusLines(CharSequence s) {
        int count = 0;
        for (int i = s.toString().indexOf("HTTP/1.1 "); i >= 0; i = s.toString().indexOf("HTTP/1.1 ", i + 1)) {
            count++;
        }
        return count;
    }

    /** True when the last response's body is fully received (by its Content-Length). */
    private static boolean completeBodies(CharSequence s) {
        String text = s.toString();
        int last = text.lastIndexOf("HTTP/1.1 ");
        int headersEnd = text.indexOf("\r\n\r\n", last);
        if (headersEnd < 0) {
            return false;
        }
        String headers = text.substring(last, headersEnd).toLowerCase(java.util.Locale.ROOT);
        int cl = headers.indexOf("content-length: ");
        if (cl < 0) {
            return true;
        }
        int len = Integer.parseInt(headers.substring(cl + 16, headers.indexOf('\r', cl) < 0 ? headers.length()
                : headers.indexOf('\r', cl)).trim());
        return text.getBytes(StandardCharsets.UTF_8).length - (headersEnd + 4) >= len;
    }
}
