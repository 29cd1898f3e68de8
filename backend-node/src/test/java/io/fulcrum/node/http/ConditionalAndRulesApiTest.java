package io.fulcrum.node.http;

import static io.fulcrum.testing.ApiErrors.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.testing.FreshNode;
import io.fulcrum.testing.LogRecorder;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The post API's HTTP rules over real loopback sockets: HEAD and conditional GET (ETag and
 * If-None-Match, on posts and on the timeline), an Idempotency-Key reused with another body,
 * control characters in fields, and a too-large body announced with {@code Expect: 100-continue}.
 */
class ConditionalAndRulesApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final FreshNode fresh = new FreshNode();
    private final TestHttp http = fresh.http();
    private LogRecorder log;

    @BeforeEach
    void record() {
        log = LogRecorder.of("io.fulcrum");
    }

    @AfterEach
    void stopRecording() {
        log.close();
    }

    @Test
    void headOnAPostHasTheHeadersOfGetAndNoBody() {
        long id = create("frank", "hello", null);
        HttpResponse<String> get = http.get("/posts/" + id);
        String raw = raw("HEAD /posts/" + id + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
        String lower = raw.toLowerCase(Locale.ROOT);
        assertTrue(lower.contains("etag: \"1\""), raw);
        assertTrue(lower.contains("content-length: " + get.body().getBytes(StandardCharsets.UTF_8).length), raw);
        assertTrue(raw.endsWith("\r\n\r\n"), "no body after the headers: " + raw);
        assertTrue(raw("HEAD /posts/999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 404"));
        assertTrue(raw("HEAD /timeline HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 200"));
    }

    @Test
    void ifNoneMatchWithTheCurrentEtagIs304AndAnEditMakesIt200Again() throws IOException {
        long id = create("frank", "v1", null);
        HttpResponse<String> same = http.send(http.request("/posts/" + id).header("If-None-Match", "\"1\"").build());
        assertEquals(304, same.statusCode());
        assertEquals("", same.body());
        assertEquals("\"1\"", same.headers().firstValue("ETag").orElseThrow());
        assertEquals(304, http.send(http.request("/posts/" + id).header("If-None-Match", "W/\"1\"").build())
                .statusCode(), "If-None-Match compares weakly (RFC 9110 13.1.2)");
        assertEquals(304, http.send(http.request("/posts/" + id).header("If-None-Match", "\"7\", \"1\"").build())
                .statusCode());
        assertEquals(304, http.send(http.request("/posts/" + id).header("If-None-Match", "*").build()).statusCode());

        http.putJson("/posts/" + id, "{\"text\":\"v2\"}");
        HttpResponse<String> changed = http.send(http.request("/posts/" + id).header("If-None-Match", "\"1\"").build());
        assertEquals(200, changed.statusCode());
        assertEquals("\"2\"", changed.headers().firstValue("ETag").orElseThrow());
        assertEquals("v2", JSON.readTree(changed.body()).get("text").asText());
        assertEquals(404, http.send(http.request("/posts/999").header("If-None-Match", "*").build()).statusCode());
    }

    @Test
    void timelineHasAnEtagThatChangesWithAnyPostAndAnswers304WhileNothingChanged() {
        create("ann", "one", null);
        HttpResponse<String> first = http.get("/timeline?limit=5");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertEquals("no-cache", first.headers().firstValue("Cache-Control").orElseThrow());
        HttpResponse<String> again = http.send(http.request("/timeline?limit=5").header("If-None-Match", etag).build());
        assertEquals(304, again.statusCode());
        assertEquals("", again.body());
        assertEquals(etag, again.headers().firstValue("ETag").orElseThrow());

        long id = create("bob", "two", null);
        HttpResponse<String> added = http.send(http.request("/timeline?limit=5").header("If-None-Match", etag).build());
        assertEquals(200, added.statusCode());
        String afterCreate = added.headers().firstValue("ETag").orElseThrow();
        assertNotEquals(etag, afterCreate);

        http.putJson("/posts/" + id, "{\"text\":\"two, edited\"}");
        String afterEdit = http.get("/timeline?limit=5").headers().firstValue("ETag").orElseThrow();
        assertNotEquals(afterCreate, afterEdit);
        http.delete("/posts/" + id);
        String afterDelete = http.get("/timeline?limit=5").headers().firstValue("ETag").orElseThrow();
        assertNotEquals(afterEdit, afterDelete);
        assertEquals(etag, afterDelete, "the same posts give the same tag");
    }

    @Test
    void theSameIdempotencyKeyWithAnotherBodyIs422AndCreatesNothing() throws IOException {
        long id = create("frank", "once", "key-1");
        HttpResponse<String> other = post("{\"author\":\"frank\",\"text\":\"something else\"}", "key-1");
        JsonNode error = assertError(other, 422, "idempotency_key_reused", "Idempotency-Key");
        assertTrue(error.get("detail").asText().contains("post " + id), other.body());
        assertEquals(422, post("{\"author\":\"mallory\",\"text\":\"once\"}", "key-1").statusCode());

        HttpResponse<String> replay = post("{\"author\":\"frank\",\"text\":\"once\"}", "key-1");
        assertEquals(200, replay.statusCode(), "the same body still replays");
        assertEquals(id, JSON.readTree(replay.body()).get("id").asLong());
        assertEquals(1, JSON.readTree(http.get("/timeline").body()).get("posts").size());
    }

    @Test
    void aReplayAfterAnEditIsJudgedByItsAuthor() throws IOException {
        long id = create("frank", "first text", "key-2");
        http.putJson("/posts/" + id, "{\"text\":\"edited since\"}");
        HttpResponse<String> replay = post("{\"author\":\"frank\",\"text\":\"first text\"}", "key-2");
        assertEquals(200, replay.statusCode(), replay.body());
        assertEquals("edited since", JSON.readTree(replay.body()).get("text").asText());
        assertEquals(422, post("{\"author\":\"eve\",\"text\":\"first text\"}", "key-2").statusCode());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\\u0000", "\\u0007", "\\r", "\\u001b[31m", "\\u007f", "\\u0085"})
    void controlCharactersInTextAre400NamingText(String control) throws IOException {
        HttpResponse<String> r = http.postJson("/posts", "{\"author\":\"frank\",\"text\":\"a" + control + "b\"}");
        JsonNode error = assertError(r, 400, "invalid_field", "text");
        assertTrue(error.get("detail").asText().contains("control character"), r.body());
        long id = create("frank", "clean", null);
        HttpResponse<String> edit = http.putJson("/posts/" + id, "{\"text\":\"x" + control + "\"}");
        assertEquals(400, edit.statusCode());
        assertEquals("text", JSON.readTree(edit.body()).get("field").asText());
    }

    @Test
    void newlinesAndTabsAreKeptInTextButNotAllowedInAuthor() throws IOException {
        HttpResponse<String> ok = http.postJson("/posts", "{\"author\":\"frank\",\"text\":\"line 1\\n\\tline 2\"}");
        assertEquals(201, ok.statusCode(), ok.body());
        assertEquals("line 1\n\tline 2", JSON.readTree(ok.body()).get("text").asText());
        HttpResponse<String> r = http.postJson("/posts", "{\"author\":\"fr\\nank\",\"text\":\"hi\"}");
        assertEquals(400, r.statusCode());
        assertEquals("author", JSON.readTree(r.body()).get("field").asText());
    }

    @Test
    void expectContinueWithATooLargeBodyGetsTheJson413AtOnceAndNoStackTrace() throws IOException {
        int declared = 2 * 1024 * 1024;
        String head = "POST /posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Expect: 100-continue\r\nContent-Length: " + declared + "\r\n\r\n";
        String answer;
        try (Socket socket = new Socket("127.0.0.1", fresh.node().port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // The client waits for the interim answer before sending the body: the refusal must come now.
            answer = readResponse(socket.getInputStream());
            // A client that sends the body anyway finds the connection closed, and the node logs no trace.
            try {
                byte[] chunk = new byte[64 * 1024];
                for (int sent = 0; sent < declared; sent += chunk.length) {
                    out.write(chunk);
                }
            } catch (SocketException expected) {
                // reset or broken pipe: the node closed after its answer
            }
        }
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
        String lower = answer.toLowerCase(Locale.ROOT);
        assertTrue(lower.contains("content-type: application/json"), answer);
        assertTrue(lower.contains("connection: close"), answer);
        JsonNode body = JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
        assertEquals("payload_too_large", body.get("error").asText());
        assertTrue(body.get("detail").asText().contains(String.valueOf(TestNodes.MAX_BODY_BYTES)), answer);
        // The node still serves, and nothing it logged carries a stack trace.
        assertEquals(200, http.get("/health").statusCode());
        assertEquals(List.of(), log.withStackTraces());
    }

    @Test
    void expectContinueWithinTheLimitGets100ThenTheAnswer() throws IOException {
        byte[] body = "{\"author\":\"frank\",\"text\":\"after continue\"}".getBytes(StandardCharsets.UTF_8);
        String head = "POST /posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + "Expect: 100-continue\r\nContent-Length: " + body.length + "\r\n\r\n";
        try (Socket socket = new Socket("127.0.0.1", fresh.node().port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            String interim = readHead(in);
            assertTrue(interim.startsWith("HTTP/1.1 100"), interim);
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(all.startsWith("HTTP/1.1 201"), all);
        }
    }

    private long create(String author, String text, String key) {
        HttpResponse<String> r = post("{\"author\":\"" + author + "\",\"text\":\"" + text + "\"}", key);
        assertEquals(201, r.statusCode(), r.body());
        try {
            return JSON.readTree(r.body()).get("id").asLong();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private HttpResponse<String> post(String json, String key) {
        HttpRequest.Builder b = http.request("/posts").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (key != null) {
            b.header("Idempotency-Key", key);
        }
        return http.send(b.build());
    }

    /** Sends raw bytes on a new connection and reads until the node closes it. */
    private String raw(String request) {
        try (Socket socket = new Socket("127.0.0.1", fresh.node().port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Reads one response's head and, by its Content-Length, its body. */
    private static String readResponse(InputStream in) throws IOException {
        String head = readHead(in);
        String lower = head.toLowerCase(Locale.ROOT);
        int at = lower.indexOf("content-length: ");
        assertFalse(at < 0, head);
        int length = Integer.parseInt(lower.substring(at + 16, lower.indexOf("\r\n", at)).trim());
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    /** Reads up to and including the blank line that ends a response head. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            got.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return got.toString(StandardCharsets.US_ASCII);
    }
}
