package io.fulcrum.balancer.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The compiled matcher alone: no sockets, pools are their names. */
class RouterTest {
    private static final String POOLS = """
            pools:
              a: { backends: [{id: a1, url: "http://127.0.0.1:9001"}] }
              b: { backends: [{id: b1, url: "http://127.0.0.1:9002"}] }
              c: { backends: [{id: c1, url: "http://127.0.0.1:9003"}] }
            """;

    private static Router<String> router(String routes) throws ConfigException {
        BalancerConfig c = ConfigLoader.parse(POOLS + routes, "test.yaml");
        return Router.compile(c.routes(), c.defaultPool(), name -> c.pool(name) == null ? null : name);
    }

    private static String pool(Router<String> r, String method, String target, String host, HttpHeaders headers) {
        Route<String> route = r.route(method, target, host, headers);
        return route.kind() == Route.Kind.POOL ? route.pool() : route.kind().name();
    }

    private static String pool(Router<String> r, String target, String host) {
        return pool(r, "GET", target, host, new DefaultHttpHeaders());
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource({
            "api.example.com, /, a",
            "API.Example.COM, /, a",
            "api.example.com:8443, /, a",
            "api.example.com., /, a",
            "www.example.com, /, b",
            "a.b.Example.com:80, /, b",
            "example.com, /, c",
            "other.org, /, c",
            "[::1]:8080, /, c",
    })
    void matchesExactAndSuffixHostsIgnoringCaseAndPort(String host, String target, String expected)
            throws ConfigException {
        Router<String> r = router("""
                routes:
                  - { match: { host: api.example.com }, pool: a }
                  - { match: { host: "*.example.com" }, pool: b }
                default-pool: c
                """);
        assertEquals(expected, pool(r, target, host));
    }

    @Test
    void anAbsoluteFormTargetNamesTheHostInsteadOfTheHostField() throws ConfigException {
        Router<String> r = router("""
                routes:
                  - { match: { host: api.example.com, path: { prefix: /x } }, pool: a }
                default-pool: c
                """);
        assertEquals("a", pool(r, "http://API.example.com:81/x/y?q", "other.org"));
        assertEquals("c", pool(r, "http://other.org/x", "api.example.com"));
        assertEquals("a", pool(r, "/x", "api.example.com"));
        assertEquals("c", pool(r, "/x", null), "no Host at all");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "/static, a",
            "/static/, a",
            "/static/app.js?v=1, a",
            "/statics, c",
            "/docs/, b",
            "/docs/x, b",
            "/docs, c",
            "/about, b",
            "/about/, c",
            "/about?x=1, b",
            "/users/42, a",
            "/users/42/posts, c",
            "/users/x, c",
            "'*', c",
    })
    void matchesPathPrefixAtASegmentBoundaryExactAndRegexOnThePathOnly(String target, String expected)
            throws ConfigException {
        Router<String> r = router("""
                routes:
                  - { match: { path: { prefix: /static } }, pool: a }
                  - { match: { path: { prefix: /docs/ } }, pool: b }
                  - { match: { path: { exact: /about } }, pool: b }
                  - { match: { path: { regex: "/users/[0-9]+" } }, pool: a }
                default-pool: c
                """);
        assertEquals(expected, pool(r, target, "h"));
    }

    @Test
    void matchesMethodsAndHeadersPresenceOrValue() throws ConfigException {
        Router<String> r = router("""
                routes:
                  - { match: { methods: [POST, PUT] }, pool: a }
                  - { match: { headers: [{ name: X-Env, value: beta }] }, pool: b }
                  - { match: { headers: [{ name: X-Canary }] }, pool: c }
                """);
        HttpHeaders none = new DefaultHttpHeaders();
        assertEquals("a", pool(r, "POST", "/", "h", none));
        assertEquals("a", pool(r, "PUT", "/", "h", none));
        assertEquals("NO_ROUTE", pool(r, "GET", "/", "h", none));
        assertEquals("NO_ROUTE", pool(r, "post", "/", "h", none), "methods are case-sensitive");
        assertEquals("b", pool(r, "GET", "/", "h", new DefaultHttpHeaders().add("x-env", "beta")));
        assertEquals("NO_ROUTE", pool(r, "GET", "/", "h", new DefaultHttpHeaders().add("X-Env", "Beta")));
        assertEquals("c", pool(r, "GET", "/", "h", new DefaultHttpHeaders().add("X-Canary", "")));
    }

    @Test
    void theFirstMatchingRouteWinsAndEveryConditionMustHold() throws ConfigException {
        Router<String> r = router("""
                routes:
                  - { match: { host: a.com, path: { prefix: /api }, methods: [GET] }, pool: a }
                  - { match: { path: { prefix: /api } }, pool: b }
                  - { match: { path: { prefix: /api/v2 } }, pool: c }
                """);
        assertEquals("a", pool(r, "GET", "/api/v2", "a.com", new DefaultHttpHeaders()));
        assertEquals("b", pool(r, "POST", "/api/v2", "a.com", new DefaultHttpHeaders()));
        assertEquals("b", pool(r, "GET", "/api/v2", "b.com", new DefaultHttpHeaders()));
        assertEquals("NO_ROUTE", pool(r, "GET", "/", "a.com", new DefaultHttpHeaders()));
    }

    @Test
    void withoutRoutesEverythingGoesToTheDefaultPool() {
        Router<String> r = Router.everythingTo("only");
        Route<String> route = r.route("GET", "/anything", null, new DefaultHttpHeaders());
        assertEquals(Route.Kind.POOL, route.kind());
        assertSame("only", route.pool());
        assertEquals("default-pool", route.name());
    }

    @Test
    void aRouterOfManyRoutesFindsEachByItsExactHost() throws ConfigException {
        StringBuilder routes = new StringBuilder("routes:\n");
        for (int i = 0; i < 130; i++) {
            routes.append("  - { match: { host: h").append(i).append(".example.com }, pool: ")
                    .append("abc".charAt(i % 3)).append(" }\n");
        }
        Router<String> r = router(routes.toString());
        for (int i = 0; i < 130; i++) {
            assertEquals(String.valueOf("abc".charAt(i % 3)), pool(r, "/", "H" + i + ".example.com"));
            assertEquals("routes[" + i + "]", r.route("GET", "/", "h" + i + ".example.com", new DefaultHttpHeaders()).name());
        }
        assertEquals("NO_ROUTE", pool(r, "/", "h130.example.com"));
    }

    /**
     * strip-prefix removes the matched prefix and keeps the query; replace-prefix puts its own in
     * place of the matched one.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "/static/app.js?v=1, /app.js?v=1",
            "/static, /",
            "/static?x, /?x",
            "http://h/static/a, /a",
            "/v1/users, /api/v1/users",
            "/v1, /api/v1",
            "/v1?q=2, /api/v1?q=2",
            "/old/x, /new/x",
            "/old/, /new/",
    })
    void aRewriteStripsOrReplacesTheMatchedPrefix(String target, String expected) throws ConfigException {
        Router<String> r = router("""
                routes:
                  - { match: { path: { prefix: /static } }, pool: a, rewrite: { strip-prefix: true } }
                  - { match: { path: { prefix: /v1 } }, pool: a, rewrite: { replace-prefix: /api/v1 } }
                  - { match: { path: { prefix: /old/ } }, pool: a, rewrite: { replace-prefix: /new/ } }
                """);
        assertEquals(expected, r.route("GET", target, "h", new DefaultHttpHeaders()).rewrite(target));
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "https://{host}{path}{query} | /a/b?x=1&y=2 | https://h.com:8080/a/b?x=1&y=2",
            "https://{host}{path}{query} | /a/b | https://h.com:8080/a/b",
            "{scheme}://new.example.com/v2{path} | /a?q | http://new.example.com/v2/a",
            "/fixed | /a?q | /fixed",
            "https://{host}{path}{query} | http://other/p?q=1 | https://h.com:8080/p?q=1",
    })
    void redirectTemplatesFillInSchemeHostPathAndQuery(String template, String target, String expected)
            throws ConfigException {
        Router<String> r = router("routes:\n  - redirect: { status: 301, to: \"" + template + "\" }\n");
        Route<String> route = r.route("GET", target, "h.com:8080", new DefaultHttpHeaders());
        assertEquals(Route.Kind.REDIRECT, route.kind());
        assertEquals(301, route.status());
        assertNull(route.pool());
        assertEquals(expected, route.location("http", "h.com:8080", target));
    }

    @Test
    void headerEditsRemoveThenSetThenAdd() throws ConfigException {
        Router<String> r = router("""
                routes:
                  - pool: a
                    request-headers: { remove: [X-Drop, X-Set], set: { X-Set: new }, add: { X-Add: two } }
                """);
        HttpHeaders h = new DefaultHttpHeaders().add("X-Drop", "1").add("X-Set", "old").add("X-Set", "old2")
                .add("X-Add", "one");
        r.route("GET", "/", "h", h).editRequest(h);
        assertEquals(false, h.contains("X-Drop"));
        assertEquals(java.util.List.of("new"), h.getAll("X-Set"));
        assertEquals(java.util.List.of("one", "two"), h.getAll("X-Add"));
    }
}
