package io.fulcrum.balancer.route;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.http.HttpRequest;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pools and routes end to end: real balancer, real backends, raw HTTP/1.1 over loopback. */
class RoutesE2eTest {
    private static final int PATIENCE_MILLIS = 10_000;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Balancer balancer;

    /** One backend per pool, named after it: pool {@code name} has the backend {@code name}1. */
    private static String pools(ScriptedBackend... backends) {
        StringBuilder out = new StringBuilder("pools:\n");
        for (ScriptedBackend b : backends) {
            String pool = b.name().substring(0, b.name().length() - 1);
            out.append("  ").append(pool).append(":\n    backends: [{ id: ").append(b.name())
                    .append(", url: \"http://127.0.0.1:").append(b.port()).append("\" }]\n");
        }
        return out.toString();
    }

    /** Starts the balancer with one pool per backend ({@link #pools}) and then {@code routes}. */
    private void route(String routes, ScriptedBackend... backends) throws Exception {
        balancer = fx.balancer(BalancerYaml.forProxy().append(pools(backends) + routes));
    }

    private RawHttpClient.Response send(String request) throws IOException {
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), PATIENCE_MILLIS)) {
            client.send(request);
            return client.readResponse(request.startsWith("HEAD "));
        }
    }

    private RawHttpClient.Response get(String target, String host) throws IOException {
        return send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    }

    /** The backend that answered, from its own response header. */
    private static String servedBy(RawHttpClient.Response r) {
        return r.header("X-Backend-Name");
    }

    private static HttpRequest last(ScriptedBackend b) {
        List<HttpRequest> received = b.received();
        return received.get(received.size() - 1);
    }

    @Test
    void hostsMatchExactlyOrBySuffixIgnoringCaseAndPort() throws Exception {
        route("""
                routes:
                  - { match: { host: api.example.com }, pool: api }
                  - { match: { host: "*.example.com" }, pool: web }
                default-pool: other
                """, fx.backends("api1", "web1", "other1"));
        assertEquals("api1", servedBy(get("/", "API.Example.com:8080")));
        assertEquals("web1", servedBy(get("/", "www.example.com")));
        assertEquals("other1", servedBy(get("/", "example.com")));
        assertEquals("api1", servedBy(send("GET http://api.example.com/x HTTP/1.1\r\nHost: elsewhere\r\n\r\n")),
                "an absolute-form target names the host");
    }

    @Test
    void pathsMatchByPrefixExactOrRegexAndAnUnmatchedRequestGetsA404() throws Exception {
        ScriptedBackend st = fx.backend("static1");
        ScriptedBackend about = fx.backend("about1");
        ScriptedBackend users = fx.backend("users1");
        route("""
                routes:
                  - { match: { path: { prefix: /static } }, pool: static }
                  - { match: { path: { exact: /about } }, pool: about }
                  - { match: { path: { regex: "/users/[0-9]+" } }, pool: users }
                """, st, about, users);
        assertEquals("static1", servedBy(get("/static/app.js", "h")));
        assertEquals("about1", servedBy(get("/about?lang=en", "h")));
        assertEquals("users1", servedBy(get("/users/42", "h")));
        for (String target : List.of("/statics", "/about/us", "/users/x", "/")) {
            RawHttpClient.Response r = get(target, "h");
            assertEquals(404, r.status(), target);
            assertTrue(r.bodyText().contains("\"error\":\"no route for this request\""), r.bodyText());
            assertTrue(r.header("X-Request-Id") != null);
        }
        assertEquals(3, st.requests() + about.requests() + users.requests(), "404s reach no backend");
    }

    @Test
    void aKeptAliveConnectionServesRequestsAfterA404() throws Exception {
        ScriptedBackend a = fx.backend("a1");
        route("""
                routes:
                  - { match: { path: { prefix: /a } }, pool: a }
                """, a);
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), PATIENCE_MILLIS)) {
            assertEquals(404, client.get("/nothing").status());
            assertEquals("a1", servedBy(client.get("/a")));
        }
    }

    @Test
    void methodsAndHeadersMatchAndTheFirstMatchingRouteWins() throws Exception {
        route("""
                routes:
                  - { match: { methods: [POST, PUT] }, pool: writes }
                  - { match: { headers: [{ name: X-Env, value: beta }] }, pool: beta }
                  - { match: { headers: [{ name: X-Canary }] }, pool: canary }
                  - { match: { headers: [{ name: X-Canary }] }, pool: main }
                default-pool: main
                """, fx.backends("writes1", "beta1", "canary1", "main1"));
        assertEquals("writes1", servedBy(send("POST /p HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\nContent-Length: 2\r\n\r\nhi")));
        assertEquals("beta1", servedBy(send("GET / HTTP/1.1\r\nHost: h\r\nX-Env: beta\r\nX-Canary: 1\r\n\r\n")));
        assertEquals("canary1", servedBy(send("GET / HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\n\r\n")),
                "the first of two matching routes");
        assertEquals("main1", servedBy(send("GET / HTTP/1.1\r\nHost: h\r\nX-Env: alpha\r\n\r\n")));
    }

    @Test
    void routesEditRequestAndResponseHeadersAndRewriteThePath() throws Exception {
        ScriptedBackend st = fx.backend("static1");
        ScriptedBackend api = fx.backend("api1");
        route("""
                routes:
                  - match: { path: { prefix: /static } }
                    pool: static
                    rewrite: { strip-prefix: true }
                    request-headers: { remove: [Cookie], set: { X-Pool: static }, add: { X-Tag: two } }
                    response-headers: { remove: [X-Backend-Name], set: { Cache-Control: max-age=60 }, add: { X-Served: edge } }
                  - match: { path: { prefix: /v1 } }
                    pool: api
                    rewrite: { replace-prefix: /api/v1 }
                """, st, api);
        RawHttpClient.Response r = send("GET /static/css/site.css?v=3 HTTP/1.1\r\nHost: h\r\nCookie: s=1\r\n"
                + "X-Pool: client\r\nX-Tag: one\r\n\r\n");
        assertEquals(200, r.status());
        assertNull(r.header("X-Backend-Name"), "removed from the response");
        assertEquals("max-age=60", r.header("Cache-Control"));
        assertEquals("edge", r.header("X-Served"));
        HttpRequest seen = last(st);
        assertEquals("/css/site.css?v=3", seen.uri());
        assertFalse(seen.headers().contains("Cookie"));
        assertEquals(List.of("static"), seen.headers().getAll("X-Pool"));
        assertEquals(List.of("one", "two"), seen.headers().getAll("X-Tag"));
        assertTrue(seen.headers().contains("X-Forwarded-For"), "the balancer's own headers stay");

        assertEquals(200, get("/v1/users?id=7", "h").status());
        assertEquals("/api/v1/users?id=7", last(api).uri());
        assertEquals(200, get("/static", "h").status());
        assertEquals("/", last(st).uri());
    }

    @Test
    void redirectsWithEachStatusAndTheirTemplate() throws Exception {
        ScriptedBackend a = fx.backend("a1");
        route("""
                routes:
                  - { match: { path: { prefix: /301 } }, redirect: { status: 301, to: "https://{host}{path}{query}" } }
                  - { match: { path: { prefix: /302 } }, redirect: { to: "/elsewhere" } }
                  - { match: { path: { prefix: /307 } }, redirect: { status: 307, to: "{scheme}://new.example.com{path}" } }
                  - match: { path: { prefix: /308 } }
                    redirect: { status: 308, to: "https://example.org/x{query}" }
                    response-headers: { set: { Cache-Control: no-store } }
                """, a);
        RawHttpClient.Response r = get("/301/a?b=1", "old.example.com:8080");
        assertEquals(301, r.status());
        assertEquals("https://old.example.com:8080/301/a?b=1", r.header("Location"));
        assertEquals("0", r.header("Content-Length"));
        r = get("/302", "h");
        assertEquals(302, r.status());
        assertEquals("/elsewhere", r.header("Location"));
        r = get("/307/p?q", "h");
        assertEquals(307, r.status());
        assertEquals("http://new.example.com/307/p", r.header("Location"));
        r = get("/308?z=2", "h");
        assertEquals(308, r.status());
        assertEquals("https://example.org/x?z=2", r.header("Location"));
        assertEquals("no-store", r.header("Cache-Control"));
        assertEquals(0, a.requests());
    }

    @Test
    void aFixedResponseAnswersWithoutABackend() throws Exception {
        ScriptedBackend a = fx.backend("a1");
        route("""
                routes:
                  - match: { path: { prefix: /maintenance } }
                    respond: { status: 503, body: "<h1>Back soon</h1>", content-type: text/html }
                    response-headers: { set: { Retry-After: "120" } }
                  - { match: { path: { exact: /robots.txt } }, respond: { body: "User-agent: *\\n" } }
                  - pool: a
                """, a);
        RawHttpClient.Response r = get("/maintenance", "h");
        assertEquals(503, r.status());
        assertEquals("<h1>Back soon</h1>", r.bodyText());
        assertEquals("text/html", r.header("Content-Type"));
        assertEquals("120", r.header("Retry-After"));
        r = get("/robots.txt", "h");
        assertEquals(200, r.status());
        assertEquals("User-agent: *\n", r.bodyText());
        assertEquals("text/plain; charset=utf-8", r.header("Content-Type"));
        r = send("HEAD /robots.txt HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(200, r.status());
        assertEquals("14", r.header("Content-Length"));
        assertEquals(0, r.body().length);
        // A body the fixed response did not read: answered, then the connection closes.
        r = send("POST /maintenance HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
        assertEquals(503, r.status());
        assertEquals("close", r.header("Connection"));
        assertEquals(0, a.requests());
        assertEquals("a1", servedBy(get("/other", "h")));
    }

    @Test
    void eachPoolHasItsOwnRetrySettingsAndRetriesStayInThePool() throws Exception {
        ScriptedBackend r1 = fx.backend("r1").fault(ScriptedBackend.Fault.ERROR_5XX);
        ScriptedBackend r2 = fx.backend("r2");
        ScriptedBackend n1 = fx.backend("n1").fault(ScriptedBackend.Fault.ERROR_5XX);
        ScriptedBackend n2 = fx.backend("n2");
        balancer = fx.balancer(BalancerYaml.forProxy().set("retry.attempts", "2").append("""
                pools:
                  retrying:
                    backends:
                      - { id: r1, url: "http://127.0.0.1:%d" }
                      - { id: r2, url: "http://127.0.0.1:%d" }
                  single-try:
                    backends:
                      - { id: n1, url: "http://127.0.0.1:%d" }
                      - { id: n2, url: "http://127.0.0.1:%d" }
                    retry: { attempts: 0 }
                routes:
                  - { match: { path: { prefix: /r } }, pool: retrying }
                  - { match: { path: { prefix: /n } }, pool: single-try }
                """.formatted(r1.port(), r2.port(), n1.port(), n2.port())));
        for (int i = 0; i < 4; i++) {
            assertEquals(200, get("/r", "h").status(), "a 503 is retried on the pool's other backend");
        }
        int failed = 0;
        for (int i = 0; i < 4; i++) {
            failed += get("/n", "h").status() == 503 ? 1 : 0;
        }
        assertEquals(2, failed, "round-robin over a failing and a working backend, no retries");
        assertEquals(0, n1.requests("GET", "/r") + n2.requests("GET", "/r"), "retries never leave the pool");
    }

    @Test
    void eachPoolHasItsOwnResponseTimeout() throws Exception {
        ScriptedBackend quick = fx.backend("quick1").delay(java.time.Duration.ofMillis(800));
        ScriptedBackend patient = fx.backend("patient1").delay(java.time.Duration.ofMillis(800));
        balancer = fx.balancer(BalancerYaml.forProxy().append(pools(quick, patient) + """
                    timeouts: { response: 5s }
                routes:
                  - { match: { path: { prefix: /q } }, pool: quick }
                  - { match: { path: { prefix: /p } }, pool: patient }
                """).set("timeouts.response", "200ms"));
        assertEquals(504, get("/q", "h").status(), "the top-level 200ms applies to the pool quick");
        assertEquals(200, get("/p", "h").status(), "the pool patient waits up to its own 5s");
    }

    @Test
    void eachPoolHasItsOwnHealthChecks() throws Exception {
        ScriptedBackend c1 = fx.backend("c1").healthStatus(503);
        ScriptedBackend c2 = fx.backend("c2");
        ScriptedBackend u1 = fx.backend("u1").healthStatus(503);
        ScriptedBackend u2 = fx.backend("u2");
        balancer = fx.balancer(BalancerYaml.forProxy().append("""
                pools:
                  checked:
                    backends:
                      - { id: c1, url: "http://127.0.0.1:%d" }
                      - { id: c2, url: "http://127.0.0.1:%d" }
                  unchecked:
                    backends:
                      - { id: u1, url: "http://127.0.0.1:%d" }
                      - { id: u2, url: "http://127.0.0.1:%d" }
                    health: { enabled: false }
                routes:
                  - { match: { path: { prefix: /c } }, pool: checked }
                  - { match: { path: { prefix: /u } }, pool: unchecked }
                """.formatted(c1.port(), c2.port(), u1.port(), u2.port()))
                .unset("health.enabled").set("health.interval", "100ms").set("health.fall", "1"));
        await().atMost(Fixtures.WAIT).until(() -> !balancer.registry("checked").current().byId("c1").state().healthy());
        for (int i = 0; i < 4; i++) {
            assertEquals("c2", servedBy(get("/c", "h")), "c1 failed its checks");
        }
        java.util.Set<String> served = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            served.add(servedBy(get("/u", "h")));
        }
        assertEquals(java.util.Set.of("u1", "u2"), served, "no checks in this pool: both serve");
        assertEquals(0, u1.healthChecks() + u2.healthChecks());
        assertTrue(c2.healthChecks() > 0);
    }

    @Test
    void reloadAddsAndRemovesRoutesAndPools() throws Exception {
        ScriptedBackend a = fx.backend("a1");
        ScriptedBackend b = fx.backend("b1");
        BalancerYaml yaml = BalancerYaml.forProxy().append(pools(a) + """
                routes:
                  - { match: { path: { prefix: /a } }, pool: a }
                """);
        balancer = fx.balancer(yaml);
        assertEquals("a1", servedBy(get("/a", "h")));
        assertEquals(404, get("/b", "h").status());

        fx.reload(yaml.clearAppended().append(pools(a, b) + """
                routes:
                  - { match: { path: { prefix: /a } }, pool: a }
                  - { match: { path: { prefix: /b } }, pool: b }
                """));
        assertEquals("a1", servedBy(get("/a", "h")));
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), PATIENCE_MILLIS)) {
            for (int i = 0; i < 3; i++) {
                assertEquals("b1", servedBy(client.get("/b")));
            }
        }
        assertEquals(1, b.connections(), "the added pool's connections are pooled and reused");
        assertTrue(fx.adminGet(balancer, "/backends").contains("\"pool\":\"b\""));

        assertTrue(fx.adminGet(balancer, "/explain?pool=b").contains("\"chosen\":\"b1\""));
        assertTrue(fx.adminGet(balancer, "/explain").contains("\"chosen\":\"a1\""), "the first pool");
        fx.reload(yaml.clearAppended().append(pools(b) + """
                routes:
                  - { match: { path: { prefix: /b } }, pool: b }
                """));
        assertEquals(404, get("/a", "h").status());
        assertEquals("b1", servedBy(get("/b", "h")));
        assertEquals(2, a.requests(), "a served /a twice, then nothing");
        assertFalse(fx.adminGet(balancer, "/backends").contains("\"pool\":\"a\""));
        String metrics = fx.adminGet(balancer, "/metrics");
        assertTrue(metrics.contains("fulcrum_backend_pool{backend=\"b1\",pool=\"b\"} 1.0"), metrics);
        assertFalse(metrics.contains("backend=\"a1\""), "the removed pool's meters are gone");
    }

    @Test
    void reloadAppliesAPoolsNewRetrySettingsAndBackends() throws Exception {
        ScriptedBackend bad = fx.backend("bad").fault(ScriptedBackend.Fault.ERROR_5XX);
        ScriptedBackend good = fx.backend("good");
        ScriptedBackend added = fx.backend("added");
        String pool = """
                pools:
                  api:
                    backends:
                      - { id: bad, url: "http://127.0.0.1:%d" }
                      - { id: good, url: "http://127.0.0.1:%d" }
                %s    retry: { attempts: %d }
                default-pool: api
                """;
        BalancerYaml yaml = BalancerYaml.forProxy().append(pool.formatted(bad.port(), good.port(), "", 0));
        balancer = fx.balancer(yaml);
        int failed = 0;
        for (int i = 0; i < 4; i++) {
            failed += get("/", "h").status() == 503 ? 1 : 0;
        }
        assertEquals(2, failed, "no retries yet");
        fx.reload(yaml.clearAppended().append(pool.formatted(bad.port(), good.port(),
                "      - { id: added, url: \"http://127.0.0.1:" + added.port() + "\" }\n", 2)));
        for (int i = 0; i < 6; i++) {
            assertEquals(200, get("/", "h").status(), "the pool's new retry.attempts is in force");
        }
        assertTrue(added.requests() > 0, "the added backend serves");
    }

    @Test
    void aSinglePoolFileIsThePoolDefaultInAdminAndMetrics() throws Exception {
        ScriptedBackend a = fx.backend("a1");
        balancer = fx.balancer(BalancerYaml.forProxy().backends(a));
        assertEquals("a1", servedBy(get("/anything", "any.host")));
        assertTrue(fx.adminGet(balancer, "/backends").contains("\"pool\":\"default\""));
        String metrics = fx.adminGet(balancer, "/metrics");
        assertTrue(metrics.contains("fulcrum_backend_pool{backend=\"a1\",pool=\"default\"} 1.0"), metrics);
        assertTrue(metrics.contains("fulcrum_backend_in_flight{backend=\"a1\"}"), "existing series unchanged");
    }
}
