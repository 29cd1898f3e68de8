package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.parse;
import static io.fulcrum.balancer.config.ConfigTexts.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code pools}, {@code routes} and {@code default-pool} keys: mapping, inheritance and errors. */
class PoolsRoutesConfigTest {
    private static final String TWO_POOLS = """
            pools:
              web:
                backends: [{id: w1, url: "http://127.0.0.1:9001"}]
              static:
                backends: [{id: s1, url: "http://127.0.0.1:9002"}]
            """;

    @Test
    void aFileWithoutPoolsHasTheOnePoolDefaultAndNoRoutes() throws ConfigException {
        BalancerConfig c = parse("retry: { attempts: 1 }\nbackends: [{id: a, url: \"http://127.0.0.1:9001\"}]\n");
        assertEquals(1, c.pools().size());
        PoolConfig p = c.pools().get(0);
        assertEquals("default", p.name());
        assertEquals(c.backends(), p.backends());
        assertEquals(c.routing(), p.routing());
        assertEquals(c.retry(), p.retry());
        assertEquals(List.of(), c.routes());
        assertEquals("default", c.defaultPool());
    }

    @Test
    void poolsInheritEveryTopLevelKeyTheyDoNotSet() throws ConfigException {
        BalancerConfig c = parse("""
                retry: { attempts: 3, budget-percent: 50, per-try-timeout: 2s }
                health: { path: /ping, rise: 4 }
                outlier: { consecutive-failures: 7 }
                timeouts: { response: 9s, connect: 300ms, queue: 2s }
                routing: { policy: round-robin, slow-start: 0s }
                default-pool: web
                pools:
                  web:
                    backends: [{id: w1, url: "http://127.0.0.1:9001"}]
                    retry: { attempts: 0, per-try-timeout: ~ }
                    health: { rise: 1 }
                    outlier: { base-ejection: 1s }
                    timeouts: { response: 1s, queue: 250ms }
                    routing: { policy: random }
                  static:
                    backends: [{id: s1, url: "http://127.0.0.1:9002"}]
                """);
        PoolConfig web = c.pool("web");
        assertEquals(new RetryConfig(0, 50, 65536, null), web.retry());
        assertEquals("/ping", web.health().path());
        assertEquals(1, web.health().rise());
        assertEquals(7, web.outlier().consecutiveFailures());
        assertEquals(Duration.ofSeconds(1), web.outlier().baseEjection());
        assertEquals(Duration.ofSeconds(1), web.timeouts().response());
        assertEquals(Duration.ofMillis(300), web.timeouts().connect());
        assertEquals(Duration.ofMillis(250), web.timeouts().queue());
        assertEquals(Duration.ofSeconds(2), c.pool("static").timeouts().queue());
        assertEquals(RoutingConfig.Policy.RANDOM, web.routing().policy());
        assertEquals(Duration.ZERO, web.routing().slowStart());
        PoolConfig stat = c.pool("static");
        assertEquals(c.retry(), stat.retry());
        assertEquals(c.health(), stat.health());
        assertEquals(c.timeouts(), stat.timeouts());
        assertEquals(c.routing(), stat.routing());
        assertEquals(List.of("w1", "s1"), c.allBackends().stream().map(BackendConfig::id).toList());
        assertEquals(List.of(), c.backends(), "no top-level backends: no pool default");
        assertEquals("web", c.defaultPool());
    }

    @Test
    void loadsTheTwoServicesExample() throws ConfigException {
        java.nio.file.Path file = java.nio.file.Path.of("config", "balancer-two-services.yaml");
        if (!java.nio.file.Files.exists(file)) {
            file = java.nio.file.Path.of("..", "config", "balancer-two-services.yaml");
        }
        BalancerConfig c = ConfigLoader.load(file);
        assertEquals(List.of("default", "static"), c.pools().stream().map(PoolConfig::name).toList());
        assertEquals("/", c.pool("static").health().path());
        assertEquals("/health", c.pool("default").health().path());
        assertEquals(new RouteAction.ToPool("static"), c.routes().get(0).action());
        assertEquals(new RewriteConfig(""), c.routes().get(0).rewrite());
        assertNull(c.defaultPool());
    }

    @Test
    void topLevelBackendsArePoolDefaultBesideOtherPools() throws ConfigException {
        BalancerConfig c = parse("backends: [{id: a, url: \"http://127.0.0.1:9001\"}]\n" + TWO_POOLS);
        assertEquals(List.of("default", "web", "static"), c.pools().stream().map(PoolConfig::name).toList());
        assertEquals("default", c.defaultPool(), "no routes: everything to the pool default");
    }

    @Test
    void mapsEveryRouteKey() throws ConfigException {
        BalancerConfig c = parse(TWO_POOLS + """
                routes:
                  - match:
                      host: [Api.Example.com, "*.example.org"]
                      path: { prefix: /static }
                      methods: [GET, HEAD]
                      headers: [{name: X-Canary}, {name: X-Env, value: beta}]
                    pool: static
                    rewrite: { strip-prefix: true }
                    request-headers: { set: { X-A: "1" }, add: { X-B: "2" }, remove: [Cookie] }
                    response-headers: { set: { Cache-Control: max-age=60 }, remove: [Server] }
                  - match: { path: { exact: /old } }
                    redirect: { status: 308, to: "https://{host}/new{query}" }
                  - match: { path: { regex: "^/maint/.*" } }
                    respond: { status: 503, body: down, content-type: text/html }
                  - match: { path: { prefix: /v1 } }
                    pool: web
                    rewrite: { replace-prefix: /api/v1 }
                """);
        assertEquals(4, c.routes().size());
        RouteConfig r = c.routes().get(0);
        assertEquals("routes[0]", r.name());
        assertEquals(List.of("api.example.com", "*.example.org"), r.match().hosts());
        assertEquals(new PathMatchConfig(PathMatchConfig.Kind.PREFIX, "/static"), r.match().path());
        assertEquals(List.of("GET", "HEAD"), r.match().methods());
        assertEquals(List.of(new HeaderMatchConfig("X-Canary", null), new HeaderMatchConfig("X-Env", "beta")),
                r.match().headers());
        assertEquals(new RouteAction.ToPool("static"), r.action());
        assertEquals(new RewriteConfig(""), r.rewrite());
        assertEquals(new HeaderEditsConfig(List.of(Map.entry("X-A", "1")), List.of(Map.entry("X-B", "2")),
                List.of("Cookie")), r.requestHeaders());
        assertEquals(List.of("Server"), r.responseHeaders().remove());
        assertEquals(new RouteAction.Redirect(308, "https://{host}/new{query}"), c.routes().get(1).action());
        assertEquals(new RouteAction.Respond(503, "down", "text/html"), c.routes().get(2).action());
        assertEquals(new RewriteConfig("/api/v1"), c.routes().get(3).rewrite());
        assertNull(c.defaultPool(), "routes without default-pool: no match is a 404");
    }

    @Test
    void respondAndRedirectHaveDefaults() throws ConfigException {
        BalancerConfig c = parse(TWO_POOLS + """
                routes:
                  - { match: { path: { exact: /a } }, redirect: { to: "/b" } }
                  - respond: {}
                """);
        assertEquals(new RouteAction.Redirect(302, "/b"), c.routes().get(0).action());
        assertEquals(new RouteAction.Respond(200, "", "text/plain; charset=utf-8"), c.routes().get(1).action());
        assertEquals(RouteMatchConfig.ANY, c.routes().get(1).match());
    }

    @Test
    void aRouteIsNamedByItsNameElseByItsPlace() throws ConfigException {
        BalancerConfig c = parse(TWO_POOLS + """
                routes:
                  - { name: api-v1, match: { path: { prefix: /api } }, pool: web }
                  - { pool: static }
                """);
        assertEquals(List.of("api-v1", "routes[1]"), c.routes().stream().map(RouteConfig::name).toList());
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                arguments("pools: []\n", "pools: expected a mapping of pool names to pools, got a list (line 1)"),
                arguments("pools: {}\n", "pools: at least one pool is required (or leave `pools` out) (line 1)"),
                arguments("pools:\n  web: {}\n", "pools.web.backends: required (expected: a list of at least one backend) (line 2)"),
                arguments("pools:\n  \"a b\": { backends: [{id: a, url: \"http://h:1\"}] }\n",
                        "pools.a b: not a valid pool name: \"a b\" (expected: letters, digits, '.', '_' or '-') (line 2)"),
                arguments("pools:\n  web: { backend: [] }\n",
                        "pools.web.backend: unknown key, did you mean \"backends\"? (line 2)"),
                arguments("pools:\n  web:\n    backends: [{id: a, url: \"ftp://h\"}]\n",
                        "pools.web.backends[0].url: not an http URL: \"ftp://h\" (expected: http://host[:port] or https://host[:port]) (line 3)"),
                arguments("backends: [{id: a, url: \"http://h:1\"}]\npools:\n  web: { backends: [{id: a, url: \"http://h:2\"}] }\n",
                        "pools.web.backends[0].id: duplicate id \"a\", already used by backends[0] (line 3)"),
                arguments("backends: [{id: a, url: \"http://h:1\"}]\npools:\n  default: { backends: [{id: b, url: \"http://h:2\"}] }\n",
                        "pools.default: pool \"default\" is already made by the top-level `backends` (move them here, or name this pool otherwise) (line 3)"),
                arguments("pools:\n  web: { backends: [{id: a, url: \"http://h:1\"}], retry: { attempts: 11 } }\ndefault-pool: web\n",
                        "pools.web.retry.attempts: out of range: 11 (expected: 0-10) (line 2)"),
                arguments("pools:\n  web: { backends: [{id: a, url: \"http://h:1\"}], timeouts: { connect: 1s } }\ndefault-pool: web\n",
                        "pools.web.timeouts.connect: set at the top level only (sockets and connection pools are shared by every pool) (line 2)"),
                arguments("pools:\n  web: { backends: [{id: a, url: \"http://h:1\"}], routing: { region-header: X-R } }\ndefault-pool: web\n",
                        "pools.web.routing.region-header: set at the top level only (the listener reads it, before any route is chosen) (line 2)"),
                arguments("pools:\n  web: { backends: [{id: a, url: \"http://h:1\"}], timeouts: { respnse: 1s } }\ndefault-pool: web\n",
                        "pools.web.timeouts.respnse: unknown key, did you mean \"response\"? (line 2)"),
                arguments("pools:\n  web: { backends: [{id: a, url: \"http://h:1\"}], health: { rise: 0 } }\ndefault-pool: web\n",
                        "pools.web.health.rise: out of range: 0 (expected: >= 1) (line 2)"),
                arguments("pools:\n  web: { backends: [{id: a, url: \"http://h:1\"}], outlier: { max-ejected-percent: 101 } }\ndefault-pool: web\n",
                        "pools.web.outlier.max-ejected-percent: out of range: 101 (expected: 0-100) (line 2)"),
                arguments(TWO_POOLS, "routes: required when no pool is named \"default\" and no `default-pool` is set"
                        + " (expected: routes that send requests to the pools) (line 1)"),
                arguments(TWO_POOLS + "default-pool: wbe\n",
                        "default-pool: no pool named \"wbe\", did you mean \"web\"? (expected: one of web, static) (line 6)"),
                arguments(TWO_POOLS + "routes: {}\n", "routes: expected a list of routes, got a mapping (line 6)"),
                arguments(TWO_POOLS + "routes:\n  - pool: nope\n",
                        "routes[0].pool: no pool named \"nope\" (expected: one of web, static) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { name: \"a b\", pool: web }\n",
                        "routes[0].name: not a valid route name: \"a b\" (expected: letters, digits, '.', '_' or '-') (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { name: api, pool: web }\n  - { name: api, pool: static }\n",
                        "routes[1].name: another route is already named \"api\" (line 8)"),
                arguments(TWO_POOLS + "routes:\n  - { name: no-route, pool: web }\n",
                        "routes[0].name: \"no-route\" names the balancer's own answers (expected: another name) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { nmae: api, pool: web }\n",
                        "routes[0].nmae: unknown key, did you mean \"name\"? (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - match: { path: { prefix: /a } }\n",
                        "routes[0]: needs one of pool, split, redirect or respond (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - pool: web\n    respond: {}\n",
                        "routes[0].respond: a route has one action, but this one also has `pool` (expected: one of pool, split, redirect or respond) (line 8)"),
                arguments(TWO_POOLS + "routes:\n  - pol: web\n",
                        "routes[0].pol: unknown key, did you mean \"pool\"? (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { hots: a }, pool: web }\n",
                        "routes[0].match.hots: unknown key, did you mean \"host\"? (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { host: \"a.com:80\" }, pool: web }\n",
                        "routes[0].match.host: not a valid host: \"a.com:80\" (expected: a name like api.example.com or *.example.com, without a port) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { host: [\"*.*.a.com\"] }, pool: web }\n",
                        "routes[0].match.host[0]: not a valid host: \"*.*.a.com\" (expected: a name like api.example.com or *.example.com, without a port) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { prefix: static } }, pool: web }\n",
                        "routes[0].match.path.prefix: not a path: \"static\" (expected: starting with /, without a query, spaces or control characters) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { exact: \"/a?b\" } }, pool: web }\n",
                        "routes[0].match.path.exact: not a path: \"/a?b\" (expected: starting with /, without a query, spaces or control characters) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { regex: \"/a(\" } }, pool: web }\n",
                        "routes[0].match.path.regex: not a valid regular expression: Unclosed group near index 3 of \"/a(\" (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { prefix: /a, exact: /a } }, pool: web }\n",
                        "routes[0].match.path.exact: a path condition is one of prefix, exact or regex, not several (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: {} }, pool: web }\n",
                        "routes[0].match.path: needs one of prefix, exact or regex (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { methods: [\"GE T\"] }, pool: web }\n",
                        "routes[0].match.methods[0]: not a valid method: \"GE T\" (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { headers: [{ value: x }] }, pool: web }\n",
                        "routes[0].match.headers[0].name: required (expected: a header name) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { headers: [{ name: \"a b\" }] }, pool: web }\n",
                        "routes[0].match.headers[0].name: not a valid header name: \"a b\" (expected: an RFC 9110 token) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - redirect: { status: 303, to: /x }\n",
                        "routes[0].redirect.status: not a redirect status: 303 (expected: 301, 302, 307 or 308) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - redirect: { status: 301 }\n",
                        "routes[0].redirect.to: required (expected: a URL template such as https://{host}{path}{query}) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - redirect: { to: \"https://{hots}/\" }\n",
                        "routes[0].redirect.to: unknown placeholder {hots}, did you mean \"host\"? (expected: {scheme}, {host}, {path}, {query}) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - respond: { status: 99 }\n",
                        "routes[0].respond.status: out of range: 99 (expected: 200-599) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - respond: { body: [a] }\n",
                        "routes[0].respond.body: expected a string, got a list (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - respond: { content-type: \"a\\nb\" }\n",
                        "routes[0].respond.content-type: not a valid header value: \"a\nb\" (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { pool: web, request-headers: { sett: {} } }\n",
                        "routes[0].request-headers.sett: unknown key, did you mean \"set\"? (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { pool: web, request-headers: { set: { \"a b\": x } } }\n",
                        "routes[0].request-headers.set.a b: not a valid header name: \"a b\" (expected: an RFC 9110 token) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { pool: web, response-headers: { add: { Content-Length: \"5\" } } }\n",
                        "routes[0].response-headers.add.Content-Length: header Content-Length frames the message or manages the connection; the balancer sets it itself (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { pool: web, response-headers: { remove: { a: b } } }\n",
                        "routes[0].response-headers.remove: expected a list of header names, got a mapping (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { pool: web, response-headers: { set: { X-A: [1] } } }\n",
                        "routes[0].response-headers.set.X-A: expected a header value, got a list (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { pool: web, rewrite: { strip-prefix: true } }\n",
                        "routes[0].rewrite: needs a route with match.path.prefix (the prefix it replaces) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { prefix: /a } }, pool: web, rewrite: { strip-prefix: true, replace-prefix: /b } }\n",
                        "routes[0].rewrite.replace-prefix: a rewrite is one of strip-prefix or replace-prefix, not both (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { prefix: /a } }, pool: web, rewrite: { replace-prefix: b } }\n",
                        "routes[0].rewrite.replace-prefix: not a path prefix: \"b\" (expected: starting with /, without a query, spaces or control characters) (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { prefix: /a } }, respond: {}, rewrite: { strip-prefix: true } }\n",
                        "routes[0].rewrite: only a route to a pool rewrites the path (line 7)"),
                arguments(TWO_POOLS + "routes:\n  - { match: { path: { prefix: /a } }, pool: web, rewrite: { strip-prefix: yes } }\n",
                        "routes[0].rewrite.strip-prefix: expected true or false, got yes (line 7)"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void reportsEachProblemWithItsFieldPathAndLine(String yaml, String expected) {
        List<String> problems = problems(yaml);
        assertTrue(problems.contains(expected), yaml + "\n" + problems);
    }
}
