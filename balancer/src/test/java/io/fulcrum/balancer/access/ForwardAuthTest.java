package io.fulcrum.balancer.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.H2cClient;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A route's {@code forward-auth} over real sockets, the JDK's HTTP client in front and the JDK's
 * HTTP server as the auth service: a 2xx lets the request through with the service's headers (the
 * client's forgeries of them dropped), any other answer reaches the client as the service gave it,
 * the service sees what was asked but never the body, and a service that is down or silent gives
 * the configured status.
 */
class ForwardAuthTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final ConcurrentLinkedQueue<Headers> asked = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Integer> askedBodies = new ConcurrentLinkedQueue<>();
    private final CountDownLatch never = new CountDownLatch(1);
    private final CountDownLatch hanging = new CountDownLatch(1);
    private HttpServer auth;
    private ScriptedBackend backend;

    @BeforeEach
    void start() throws Exception {
        backend = fx.backend("b1").echo(true);
        auth = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        auth.createContext("/verify", this::verify);
        auth.createContext("/hang", e -> {
            hanging.countDown();
            try {
                never.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            e.close();
        });
        auth.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        auth.start();
    }

    @AfterEach
    void stop() {
        never.countDown();
        auth.stop(0);
    }

    /** Bearer good: 204 with X-User; bearer login: 302 to the login page; anything else: 401 with a body. */
    private void verify(HttpExchange e) throws IOException {
        asked.add(e.getRequestHeaders());
        askedBodies.add(e.getRequestBody().readAllBytes().length);
        String authorization = e.getRequestHeaders().getFirst("Authorization");
        if ("Bearer good".equals(authorization)) {
            e.getResponseHeaders().add("X-User", "alice");
            e.getResponseHeaders().add("X-Internal", "not copied");
            e.sendResponseHeaders(204, -1);
        } else if ("Bearer login".equals(authorization)) {
            e.getResponseHeaders().add("Location", "https://login.example/?next=" + e.getRequestHeaders()
                    .getFirst("X-Forwarded-Uri"));
            e.sendResponseHeaders(302, -1);
        } else {
            byte[] body = "{\"error\":\"who are you\"}".getBytes(StandardCharsets.UTF_8);
            e.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"api\"");
            e.getResponseHeaders().add("Content-Type", "application/json");
            e.sendResponseHeaders(401, body.length);
            try (OutputStream out = e.getResponseBody()) {
                out.write(body);
            }
        }
        e.close();
    }

    private Balancer balancer(String path, String extra) throws Exception {
        return fx.balancer(BalancerYaml.forProxy().backends(backend).set("access-log", fx.accessLog().toString())
                .merge("routes:\n  - name: api\n    match: { path: { prefix: /api } }\n    pool: default\n"
                        + "    forward-auth: { url: \"http://127.0.0.1:" + auth.getAddress().getPort() + path + "\","
                        + " response-headers: [X-User]" + extra + " }\n"));
    }

    /** A request claiming to be mallory's ({@code X-User}), with {@code authorization}. */
    private static HttpResponse<String> send(Balancer b, String method, String target, String authorization,
            String body) throws Exception {
        return Browser.send(b, method, target, body, "X-User", "mallory", "Authorization", authorization);
    }

    @Test
    void aTwoHundredLetsTheRequestThroughWithTheServicesHeadersAndNoBodyIsAsked() throws Exception {
        Balancer b = balancer("/verify", "");
        HttpResponse<String> r = send(b, "POST", "/api/posts?x=1", "Bearer good", "{\"text\":\"hello\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"x-user\":[\"alice\"]") || r.body().contains("\"X-User\":[\"alice\"]"),
                "the service's X-User, not the client's: " + r.body());
        assertFalse(r.body().contains("mallory"), r.body());
        assertFalse(r.body().toLowerCase().contains("x-internal"), "only the listed headers: " + r.body());
        assertTrue(r.body().contains("\"bodyLength\":16"), "the backend got the body: " + r.body());
        Headers seen = asked.peek();
        assertEquals("POST", seen.getFirst("X-Forwarded-Method"));
        assertEquals("/api/posts?x=1", seen.getFirst("X-Forwarded-Uri"));
        assertEquals("http", seen.getFirst("X-Forwarded-Proto"));
        assertEquals("127.0.0.1:" + b.port(), seen.getFirst("X-Forwarded-Host"));
        assertEquals("127.0.0.1", seen.getFirst("X-Forwarded-For"));
        assertTrue(seen.getFirst("X-Request-Id").length() == 32);
        assertNull(seen.getFirst("Content-Length"), "never the body");
        assertEquals(0, askedBodies.peek());
    }

    @Test
    void anyOtherAnswerGoesToTheClientAsTheServiceGaveIt() throws Exception {
        Balancer b = balancer("/verify", "");
        HttpResponse<String> denied = send(b, "GET", "/api/me", "Bearer bad", null);
        assertEquals(401, denied.statusCode());
        assertEquals("{\"error\":\"who are you\"}", denied.body());
        assertEquals("Bearer realm=\"api\"", denied.headers().firstValue("WWW-Authenticate").orElse(null));
        assertTrue(denied.headers().firstValue("X-Request-Id").isPresent());
        HttpResponse<String> login = send(b, "GET", "/api/me", "Bearer login", null);
        assertEquals(302, login.statusCode());
        assertEquals("https://login.example/?next=/api/me", login.headers().firstValue("Location").orElse(null));
        assertEquals(0, backend.requests());
        assertEquals(2, b.proxy().accessRefused());
        var line = fx.accessLogLines(l -> assertEquals(2, l.size())).get(0);
        assertEquals("refused by forward-auth (401)", line.get("error").asText());
        assertEquals(401, line.get("status").asInt());
    }

    @Test
    void overHttp2TheServicesAnswerReachesTheStreamThatWaitedForIt() throws Exception {
        Balancer b = balancer("/verify", "");
        try (H2cClient c = H2cClient.connect(b.port())) {
            FullHttpResponse r = c.get("/api/me", Fixtures.WAIT);
            try {
                assertEquals(401, r.status().code());
                assertEquals("{\"error\":\"who are you\"}", r.content().toString(StandardCharsets.UTF_8));
                assertEquals("Bearer realm=\"api\"", r.headers().get("WWW-Authenticate"));
            } finally {
                r.release();
            }
            // The connection serves the next stream as before.
            FullHttpResponse again = c.get("/api/me", Fixtures.WAIT);
            assertEquals(401, again.status().code());
            again.release();
        }
        assertEquals(0, backend.requests());
    }

    @Test
    void aClientThatLeavesWhileTheServiceThinksEndsTheQuestion() throws Exception {
        Balancer b = fx.balancer(BalancerYaml.forProxy().backends(backend).set("access-log", fx.accessLog().toString())
                .merge("routes:\n  - { match: { path: { prefix: /api } }, pool: default, forward-auth: { url: \"http://127.0.0.1:"
                        + auth.getAddress().getPort() + "/hang\", timeout: 60s } }\n"));
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            c.send("GET /api/me HTTP/1.1\r\nHost: app\r\n\r\n");
            assertTrue(hanging.await(Fixtures.WAIT.toSeconds(), TimeUnit.SECONDS), "the service was asked");
        }
        var line = fx.accessLogLines(l -> assertEquals(1, l.size())).get(0);
        assertEquals(499, line.get("status").asInt(), "the client left first: " + line);
        assertEquals(0, backend.requests());
    }

    @Test
    void aServiceThatIsDownOrSilentGivesTheUnavailableStatus() throws Exception {
        Balancer silent = balancer("/hang", ", timeout: 300ms, unavailable-status: 500");
        HttpResponse<String> r = send(silent, "GET", "/api/me", "Bearer good", null);
        assertEquals(500, r.statusCode());
        assertTrue(r.body().contains("auth service unavailable"), r.body());
        auth.stop(0);
        HttpResponse<String> down = send(silent, "GET", "/api/me", "Bearer good", null);
        assertEquals(500, down.statusCode());
        assertEquals(0, backend.requests());
    }
}
