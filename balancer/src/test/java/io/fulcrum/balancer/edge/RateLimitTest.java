package io.fulcrum.balancer.edge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code rate-limit} over real sockets: 429 with Retry-After before any backend is chosen, recovery
 * after refill, keys independent of each other, header keys, the client address found through
 * trusted edges as the key, the metric, and reloads that change the limit or keep it.
 */
class RateLimitTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static RawHttpClient.Response get(RawHttpClient c, String headers) throws Exception {
        return c.send("GET /r HTTP/1.1\r\nHost: app\r\n" + headers + "\r\n").readResponse();
    }

    /** The one backend, b1, that every test starts the balancer in front of. */
    private ScriptedBackend backend;

    @BeforeEach
    void startBackend() throws InterruptedException {
        backend = fx.backend("b1");
    }

    private Balancer balancer(String rateLimit) throws Exception {
        return fx.balancer(yaml(backend, rateLimit));
    }

    private static BalancerYaml yaml(ScriptedBackend backend, String rateLimit) {
        return BalancerYaml.forProxy().backends(backend).merge(rateLimit);
    }

    @Test
    void pastTheBurstTheAnswerIs429WithRetryAfterAndNoBackendSeesIt() throws Exception {
        // Two at once, then one every two seconds.
        Balancer b = balancer("rate-limit: { rate: 30/m, burst: 2 }");
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            assertEquals(200, get(c, "").status());
            assertEquals(200, get(c, "").status());
            RawHttpClient.Response limited = get(c, "");
            assertEquals(429, limited.status());
            int retryAfter = Integer.parseInt(limited.header("Retry-After"));
            assertTrue(retryAfter >= 1 && retryAfter <= 2, "seconds to the next token, rounded up: " + retryAfter);
            assertTrue(limited.bodyText().contains("rate limit exceeded"), limited.bodyText());
            assertEquals("application/json", limited.header("Content-Type"));
            assertEquals(2, backend.requests(), "the limited request never reached a backend");

            // The connection stays open, and the bucket refills.
            await().atMost(Fixtures.WAIT).until(() -> get(c, "").status() == 200);
        }
        assertTrue(b.proxy().rateLimited() >= 1);
        String scrape = b.meterRegistry().scrape();
        assertTrue(scrape.contains("fulcrum_rate_limited_total " + b.proxy().rateLimited() + ".0"), scrape);
        assertTrue(scrape.contains("fulcrum_rate_limit_keys 1.0"), "one client address tracked");
        assertTrue(scrape.lines().anyMatch(l -> l.startsWith("fulcrum_requests_total{") && l.contains("backend=\"none\"")
                && l.contains("status_class=\"4xx\"")), "a limited request is a request the balancer answered");
    }

    @Test
    void aLimitedRequestWithABodyOrConnectionCloseClosesTheConnectionAfterTheAnswer() throws Exception {
        Balancer b = balancer("rate-limit: { rate: 1/h, burst: 1 }");
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            assertEquals(200, get(c, "").status());
            RawHttpClient.Response r = c.send("POST /r HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nhello")
                    .readResponse();
            assertEquals(429, r.status());
            assertEquals("3600", r.header("Retry-After"), "an hour for the next token");
            assertEquals("close", r.header("Connection"));
        }
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            RawHttpClient.Response r = get(c, "Connection: close\r\n");
            assertEquals(429, r.status());
            assertEquals("close", r.header("Connection"), "the client asked to close");
        }
        assertEquals(1, backend.requests());
    }

    /** One request of a sequence on one connection: the headers it sends and the status it must get, and why. */
    private record Step(String headers, int status, String why) {
    }

    /** Limits of one request a bucket ({@code 1/h, burst: 1}) and who shares a bucket. */
    static Stream<Arguments> eachKeyHasABucketOfItsOwn() {
        return Stream.of(
                Arguments.of("header keys have buckets of their own and no header means the client address",
                        "rate-limit: { rate: 1/h, burst: 1, key: header:X-Api-Key }",
                        List.of(new Step("X-Api-Key: alice\r\n", 200, "alice's first"),
                                new Step("X-Api-Key: alice\r\n", 429, "alice's second"),
                                new Step("X-Api-Key: bob\r\n", 200, "bob is not alice"),
                                new Step("X-Api-Key: bob\r\n", 429, "bob's second"),
                                new Step("", 200, "no key: the client address's own bucket"),
                                new Step("", 429, "no key, second"))),
                Arguments.of("the client address found through trusted edges is the key",
                        "rate-limit: { rate: 1/h, burst: 1 }\ntrusted-edges: { networks: [127.0.0.0/8] }",
                        List.of(new Step("X-Forwarded-For: 203.0.113.1\r\n", 200, "the client's first"),
                                new Step("X-Forwarded-For: 203.0.113.1\r\n", 429, "the client's second"),
                                new Step("X-Forwarded-For: 203.0.113.2\r\n", 200,
                                        "another client behind the same edge"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void eachKeyHasABucketOfItsOwn(String what, String rateLimit, List<Step> steps) throws Exception {
        Balancer b = balancer(rateLimit);
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            for (Step step : steps) {
                assertEquals(step.status(), get(c, step.headers()).status(), step.why());
            }
        }
        assertEquals(steps.stream().filter(s -> s.status() == 200).count(), backend.requests(),
                "only the requests within the limit reached the backend");
        assertEquals(steps.stream().filter(s -> s.status() == 429).count(), b.proxy().rateLimited());
    }

    private static BalancerYaml withRoutes(ScriptedBackend backend, String apiLimit) {
        return yaml(backend, "rate-limit: { rate: 1/h, burst: 3 }").append("""
                routes:
                  - { match: { path: { prefix: /api } }, pool: default, rate-limit: %s }
                  - { match: { path: { prefix: /status } }, pool: default }
                  - { match: { path: { prefix: /ping } }, pool: default, rate-limit: off }
                  - { match: { path: { prefix: /gone } }, respond: { status: 410, body: gone } }
                default-pool: default
                """.formatted(apiLimit));
    }

    private static int status(RawHttpClient c, String target) throws Exception {
        return c.send("GET " + target + " HTTP/1.1\r\nHost: app\r\n\r\n").readResponse().status();
    }

    @Test
    void aRouteWithALimitOfItsOwnUsesItInPlaceOfTheTopLevelOne() throws Exception {
        Balancer b = fx.balancer(withRoutes(backend, "{ rate: 1/h, burst: 1, key: header:X-Api-Key }"));
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            assertEquals(200, status(c, "/api/a"));
            assertEquals(429, status(c, "/api/b"), "the route's burst of one");
            assertEquals(200, c.send("GET /api/c HTTP/1.1\r\nHost: app\r\nX-Api-Key: k2\r\n\r\n").readResponse()
                    .status(), "the route's own key");
            // The route's requests took nothing from the top-level table: three for the rest.
            assertEquals(200, status(c, "/status"));
            assertEquals(200, status(c, "/x"));
            assertEquals(410, status(c, "/gone"), "a fixed response counts too");
            assertEquals(429, status(c, "/status"));
            assertEquals(429, status(c, "/gone"));
            assertEquals(429, status(c, "/api/d"), "and the route's table is still empty");
            for (int i = 0; i < 5; i++) {
                assertEquals(200, status(c, "/ping"), "rate-limit: off");
            }

            // The same route limit survives a reload that changes something else; a new one starts afresh.
            fx.reload(withRoutes(backend, "{ rate: 1/h, burst: 1, key: header:X-Api-Key }").set("timeouts.response", "9s"));
            assertEquals(429, status(c, "/api/e"));
            fx.reload(withRoutes(backend, "{ rate: 1/h, burst: 2 }"));
            assertEquals(200, status(c, "/api/f"));
            assertEquals(200, status(c, "/api/g"));
            assertEquals(429, status(c, "/api/h"));
            assertEquals(429, status(c, "/x"), "the top-level limit did not change: its buckets stayed");
        }
        assertEquals(11, backend.requests(), "neither limited requests nor fixed responses reached a backend");
    }

    @Test
    void aReloadThatChangesTheLimitAppliesItAndOneThatKeepsItKeepsTheBuckets() throws Exception {
        Balancer b = balancer("rate-limit: { rate: 1/h, burst: 1 }");
        KeyedLimiter first = b.proxy().settings().rateLimiter();
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            assertEquals(200, get(c, "").status());
            assertEquals(429, get(c, "").status());

            // Something else changes: the limit and its buckets stay.
            fx.reload(yaml(backend, "rate-limit: { rate: 1/h, burst: 1 }").set("timeouts.response", "9s"));
            assertSame(first, b.proxy().settings().rateLimiter());
            assertEquals(429, get(c, "").status(), "a reload is no way around the limit");

            // A bigger burst: a new table, applied at once.
            fx.reload(yaml(backend, "rate-limit: { rate: 1/h, burst: 3 }"));
            assertNotEquals(first, b.proxy().settings().rateLimiter());
            assertEquals(200, get(c, "").status());
            assertEquals(200, get(c, "").status());
            assertEquals(200, get(c, "").status());
            assertEquals(429, get(c, "").status());

            // No limit at all.
            fx.reload(yaml(backend, ""));
            for (int i = 0; i < 5; i++) {
                assertEquals(200, get(c, "").status());
            }
        }
        assertEquals(3, b.proxy().rateLimited(), "the counter spans reloads");
    }
}
