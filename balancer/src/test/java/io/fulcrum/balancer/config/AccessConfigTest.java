package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.ONE_BACKEND;
import static io.fulcrum.balancer.config.ConfigTexts.sectionProblems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The keys of {@code client-networks} and of a route's {@code basic-auth}, {@code forward-auth},
 * {@code cors}, {@code timeouts} and {@code limits}: values read, and each mistake named with its
 * path and line.
 */
class AccessConfigTest {
    @TempDir
    Path dir;

    private static BalancerConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(ONE_BACKEND + yaml, "test.yaml");
    }

    private static RouteConfig route(String keys) throws ConfigException {
        return parse("routes:\n  - { match: { path: { prefix: /a } }, pool: default, " + keys + " }\n").routes().get(0);
    }

    @Test
    void readsEveryKey() throws Exception {
        Path users = Files.writeString(dir.resolve("users"), "# admins\nalice:" + BCrypt.hashpw("s3cret",
                BCrypt.gensalt("$2y", 4)) + "\n\nbob:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)) + "\n");
        BalancerConfig c = parse("client-networks: { allow: [10.0.0.0/8, \"fd00::/8\"] }\nlimits: { max-response-bytes: 9 }\n"
                + "routes:\n  - match: { path: { prefix: /a } }\n    pool: default\n"
                + "    basic-auth: { users-file: \"" + users + "\", realm: Admins }\n"
                + "    forward-auth: { url: \"http://[::1]:9400/verify?x=1\", response-headers: [X-User] }\n"
                + "    cors: { allow-origins: [\"https://*.example.com\"], allow-methods: [PUT], max-age: 10m }\n"
                + "    timeouts: { response: 2s }\n    limits: { max-response-bytes: 0 }\n");
        assertEquals(2, c.clientNetworks().allow().size());
        assertEquals(9, c.limits().maxResponseBytes());
        RouteConfig r = c.routes().get(0);
        assertEquals(List.of("alice", "bob"), r.access().basicAuth().users().keySet().stream().sorted().toList());
        assertEquals("Admins", r.access().basicAuth().realm());
        assertFalse(r.access().basicAuth().toString().contains("$2"), "hashes stay out of the config's text");
        ForwardAuthConfig f = r.access().forwardAuth();
        assertEquals("::1", f.host());
        assertEquals(9400, f.port());
        assertEquals("/verify?x=1", f.target());
        assertEquals(Duration.ofSeconds(5), f.timeout());
        assertEquals(503, f.unavailableStatus());
        assertEquals(Duration.ofMinutes(10), r.access().cors().maxAge());
        assertEquals(new RouteLimitsConfig(Duration.ofSeconds(2), null, 0), r.limits());
        assertEquals(List.of(users), c.namedFiles());
    }

    @Test
    void nothingIsOnByDefault() throws Exception {
        BalancerConfig c = parse("routes:\n  - { match: { path: { prefix: /a } }, pool: default }\n");
        assertNull(c.clientNetworks());
        assertEquals(0, c.limits().maxResponseBytes());
        assertEquals(RouteAccessConfig.NONE, c.routes().get(0).access());
        assertEquals(RouteLimitsConfig.NONE, c.routes().get(0).limits());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            client-networks: { allow: [10.0.0.0/33] }|client-networks.allow[0]: prefix length of 10.0.0.0/33 (expected: 0-32) (line 2)
            client-networks: { allow: [] }|client-networks: expected allow or deny, e.g. { allow: [10.0.0.0/8] } or { deny: [192.0.2.0/24] } (line 2)
            client-networks: { deny: [example.com] }|client-networks.deny[0]: not an IP address or network: example.com (expected: 10.0.0.0/8, 127.0.0.1, ::1/128) (line 2)
            limits: { max-response-bytes: -1 }|limits.max-response-bytes: out of range: -1 (expected: >= 0) (line 2)
            """)
    void topLevelMistakes(String yaml, String problem) {
        assertEquals(List.of(problem), sectionProblems(yaml + "\n"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            basic-auth: { realm: x }|routes[0].basic-auth.users-file: required (expected: an htpasswd file of user:$2y$... lines) (line 3)
            basic-auth: { users-file: /nonexistent/users }|routes[0].basic-auth.users-file: cannot read "/nonexistent/users": /nonexistent/users (line 3)
            forward-auth: { url: "https://auth/verify" }|routes[0].forward-auth.url: not an auth service URL: "https://auth/verify" (expected: http://host[:port][/path][?query], without user info or fragment) (line 3)
            forward-auth: { }|routes[0].forward-auth.url: required (expected: the auth service's URL, e.g. http://auth:9000/verify) (line 3)
            forward-auth: { url: "http://a/", unavailable-status: 302 }|routes[0].forward-auth.unavailable-status: out of range: 302 (expected: 400-599) (line 3)
            cors: { allow-origins: ["*"], allow-credentials: true }|routes[0].cors.allow-credentials: true with allow-origins * would let every site read answers made with its users' cookies (expected: the origins listed, or allow-credentials false) (line 3)
            cors: { allow-origins: ["https://a.example/x"] }|routes[0].cors.allow-origins[0]: not an origin: "https://a.example/x" (expected: scheme://host[:port] in lower case without a path, such as https://app.example.com or https://*.example.com) (line 3)
            cors: { allow-origins: ["*", "https://a.example"] }|routes[0].cors.allow-origins[0]: * allows every origin, so it stands alone (expected: ["*"], or the origins without it) (line 3)
            cors: { allow-methods: [GET] }|routes[0].cors.allow-origins: required (expected: a list such as ["https://app.example.com"], or ["*"]) (line 3)
            timeouts: { connect: 1s }|routes[0].timeouts.connect: unknown key (line 3)
            """)
    void routeMistakes(String keys, String problem) {
        List<String> problems = sectionProblems("routes:\n  - { match: { path: { prefix: /a } }, pool: default, " + keys
                + " }\n");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(problem.substring(0, problem.indexOf(" (line"))), problems.get(0));
        assertTrue(problems.get(0).endsWith("(line 3)"), problems.get(0));
    }

    @Test
    void aUsersFileLineThatIsNoBcryptHashIsNamedWithoutTheHash() throws Exception {
        Path users = Files.writeString(dir.resolve("users"), "alice:{SHA}secret-ish\nbob:" + BCrypt.hashpw("pw",
                BCrypt.gensalt(4)) + "\nbob:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)) + "\n");
        List<String> problems = sectionProblems("routes:\n  - { match: { path: { prefix: /a } }, pool: default,"
                + " basic-auth: { users-file: \"" + users + "\" } }\n");
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("routes[0].basic-auth.users-file: line 1 of \"" + users + "\": not"
                + " user:bcrypt-hash"), problems.get(0));
        assertFalse(problems.get(0).contains("secret-ish"));
        assertTrue(problems.get(1).contains("line 3 of \"" + users + "\": user \"bob\" is already named"), problems.get(1));
    }

    @Test
    void onlyARouteToAPoolAuthenticatesOrHasTimeouts() throws Exception {
        Path users = Files.writeString(dir.resolve("users"), "a:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)) + "\n");
        assertEquals(List.of("routes[0].basic-auth: only a route to a pool authenticates (expected: pool, or no basic-auth)"
                + " (line 3)"), sectionProblems("routes:\n  - { match: { path: { prefix: /a } }, respond: { body: x },"
                        + " basic-auth: { users-file: \"" + users + "\" } }\n"));
        assertEquals(List.of("routes[0].timeouts: only a route to a pool waits for a backend (expected: pool, or no"
                + " timeouts) (line 3)"), sectionProblems("routes:\n  - { match: { path: { prefix: /a } },"
                        + " respond: { body: x }, timeouts: { response: 1s } }\n"));
        assertTrue(route("cors: { allow-origins: [\"*\"] }").access().cors().anyOrigin());
    }
}
