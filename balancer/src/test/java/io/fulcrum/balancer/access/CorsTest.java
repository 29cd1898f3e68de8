package io.fulcrum.balancer.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A route's {@code cors} with requests as a browser sends them (the JDK's HTTP client with
 * {@code Origin} and the preflight's {@code Access-Control-Request-*}): the balancer answers
 * preflights itself, an allowed origin's responses get {@code Access-Control-Allow-Origin} and
 * {@code Vary: Origin}, and nothing of CORS is added for an origin not allowed.
 */
class CorsTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private ScriptedBackend backend;
    private Balancer b;

    @BeforeEach
    void start() throws Exception {
        backend = fx.backend("b1");
        b = fx.balancer(BalancerYaml.forProxy().backends(backend).merge("""
                routes:
                  - name: api
                    match: { path: { prefix: /api } }
                    pool: default
                    cors:
                      allow-origins: ["https://app.example.com", "https://*.example.org"]
                      allow-methods: [PUT, DELETE]
                      allow-headers: [Content-Type, X-Api-Key]
                      expose-headers: [X-Request-Id]
                      allow-credentials: true
                      max-age: 10m
                  - name: closed
                    match: { path: { prefix: /closed } }
                    pool: default
                    client-networks: { deny: [127.0.0.0/8] }
                    cors: { allow-origins: ["https://app.example.com"] }
                  - name: public
                    match: { path: { prefix: /public } }
                    pool: default
                    cors: { allow-origins: ["*"] }
                """));
    }

    private HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        return Browser.send(b, method, path, null, headers);
    }

    private static Optional<String> h(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name);
    }

    private static boolean anyCors(HttpHeaders headers) {
        return headers.map().keySet().stream().anyMatch(n -> n.toLowerCase().startsWith("access-control-"));
    }

    @Test
    void anAllowedPreflightIsAnsweredByTheBalancer() throws Exception {
        HttpResponse<String> r = send("OPTIONS", "/api/posts", "Origin", "https://shop.example.org",
                "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type, x-api-key");
        assertEquals(204, r.statusCode());
        assertEquals(Optional.of("https://shop.example.org"), h(r, "Access-Control-Allow-Origin"));
        assertEquals(Optional.of("true"), h(r, "Access-Control-Allow-Credentials"));
        assertEquals(Optional.of("DELETE, GET, HEAD, POST, PUT"), h(r, "Access-Control-Allow-Methods"));
        assertEquals(Optional.of("content-type, x-api-key"), h(r, "Access-Control-Allow-Headers"));
        assertEquals(Optional.of("600"), h(r, "Access-Control-Max-Age"));
        assertTrue(r.headers().allValues("Vary").toString().contains("Origin"));
        assertEquals(0, backend.requests(), "no backend answers a preflight");
    }

    @Test
    void aPreflightOfAnOriginMethodOrHeaderNotAllowedGets403WithoutCorsHeaders() throws Exception {
        for (List<String> asked : List.of(
                List.of("https://evil.example", "PUT", "content-type"),
                List.of("https://app.example.com", "PATCH", "content-type"),
                List.of("https://app.example.com", "PUT", "x-secret"),
                List.of("https://example.org", "GET", "content-type"))) {
            HttpResponse<String> r = send("OPTIONS", "/api/posts", "Origin", asked.get(0),
                    "Access-Control-Request-Method", asked.get(1), "Access-Control-Request-Headers", asked.get(2));
            assertEquals(403, r.statusCode(), asked.toString());
            assertFalse(anyCors(r.headers()), asked + ": " + r.headers().map());
            assertTrue(r.body().contains("CORS preflight refused"), r.body());
        }
        assertEquals(0, backend.requests());
    }

    @Test
    void aRefusalOfTheBalancersOwnCarriesTheCorsHeadersSoThatTheScriptCanReadIt() throws Exception {
        HttpResponse<String> r = send("GET", "/closed/x", "Origin", "https://app.example.com");
        assertEquals(403, r.statusCode());
        assertEquals(Optional.of("https://app.example.com"), h(r, "Access-Control-Allow-Origin"));
        assertEquals(0, backend.requests());
    }

    @Test
    void anActualRequestGetsTheOriginAllowedOnlyWhenItIs() throws Exception {
        HttpResponse<String> ok = send("GET", "/api/posts", "Origin", "https://app.example.com");
        assertEquals(200, ok.statusCode());
        assertEquals(Optional.of("https://app.example.com"), h(ok, "Access-Control-Allow-Origin"));
        assertEquals(Optional.of("true"), h(ok, "Access-Control-Allow-Credentials"));
        assertEquals(Optional.of("X-Request-Id"), h(ok, "Access-Control-Expose-Headers"));
        assertEquals(Optional.of("Origin"), h(ok, "Vary"));

        HttpResponse<String> other = send("GET", "/api/posts", "Origin", "https://evil.example");
        assertEquals(200, other.statusCode(), "the request itself is the backend's business");
        assertFalse(anyCors(other.headers()), other.headers().map().toString());
        assertEquals(Optional.of("Origin"), h(other, "Vary"), "a cache must keep the two answers apart");

        HttpResponse<String> any = send("GET", "/public/x", "Origin", "https://anyone.example");
        assertEquals(Optional.of("*"), h(any, "Access-Control-Allow-Origin"));
        assertFalse(h(any, "Vary").isPresent(), "the same for every origin");
        HttpResponse<String> plainOptions = send("OPTIONS", "/public/x");
        assertEquals(200, plainOptions.statusCode(), "an OPTIONS that is no preflight goes to the backend");
        assertEquals(4, backend.requests());
    }
}
