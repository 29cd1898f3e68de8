package io.fulcrum.balancer.admin;

import static io.fulcrum.balancer.admin.AdminTestSupport.backend;
import static io.fulcrum.balancer.admin.AdminTestSupport.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.AdminTokenConfig;
import io.fulcrum.balancer.config.ConfigLoader;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin port's state-changing endpoints against what a web page in an operator's browser, or a
 * client without the token, can send; the reads stay open.
 */
class AdminSecurityTest {
    private static final String TOKEN = "s3cret-token-0123456789";
    private final AdminTestSupport http = new AdminTestSupport();
    private Balancer balancer;
    private int admin;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (balancer != null) {
            balancer.close();
        }
    }

    /** Backends on ports nobody listens on: these tests never send traffic. */
    private void start(String extra) throws Exception {
        balancer = new Balancer(ConfigLoader.parse(AdminTestSupport.yaml(extra, "a=1", "b=2")
                .replace("health: { path: /_hc, interval: 1h, timeout: 10s }\n", "health: { enabled: false }\n"),
                "test.yaml"), 1).start();
        admin = balancer.adminPort();
    }

    private boolean drained(String id) {
        return backend(json(http.get(admin, "/backends")), id).get("draining").asBoolean();
    }

    @Test
    void crossSitePostIsRefusedAndDrainsNothing() throws Exception {
        start("");
        HttpResponse<String> evil = http.post(admin, "/backends/a/drain", "Origin", "http://evil.example",
                "Content-Type", "application/json");
        assertEquals(403, evil.statusCode(), evil.body());
        assertTrue(json(evil).get("error").asText().contains("cross-site"), evil.body());

        HttpResponse<String> fetchSite = http.post(admin, "/backends/a/drain", "Sec-Fetch-Site", "cross-site",
                "Content-Type", "application/json");
        assertEquals(403, fetchSite.statusCode());

        // The form a page can send without a CORS preflight.
        HttpResponse<String> plain = http.post(admin, "/backends/a/drain", "Content-Type", "text/plain");
        assertEquals(415, plain.statusCode(), plain.body());
        assertEquals(415, http.post(admin, "/reload", "Content-Type", "text/plain").statusCode());
        assertFalse(drained("a"), "nothing was drained");

        // The status page itself: same origin, JSON.
        HttpResponse<String> same = http.post(admin, "/backends/a/drain", "Origin", "http://127.0.0.1:" + admin,
                "Sec-Fetch-Site", "same-origin", "Content-Type", "application/json");
        assertEquals(200, same.statusCode(), same.body());
        assertTrue(drained("a"));
    }

    @Test
    void withATokenAnUnauthenticatedPostGets401AndReadsStayOpen() throws Exception {
        startWithAdmin("{ host: 127.0.0.1, port: 0, token: " + TOKEN + " }");

        HttpResponse<String> none = http.post(admin, "/backends/a/drain");
        assertEquals(401, none.statusCode(), none.body());
        assertEquals("Bearer realm=\"fulcrum-admin\"", none.headers().firstValue("WWW-Authenticate").orElse(null));
        HttpResponse<String> wrong = http.post(admin, "/backends/a/drain", "Content-Type", "application/json",
                "Authorization", "Bearer not-the-token-at-all");
        assertEquals(401, wrong.statusCode());
        assertFalse(drained("a"));
        assertEquals(200, http.get(admin, "/metrics").statusCode(), "reads need no token");

        HttpResponse<String> right = http.post(admin, "/backends/a/drain", "Content-Type", "application/json",
                "Authorization", "Bearer " + TOKEN);
        assertEquals(200, right.statusCode(), right.body());
        assertTrue(drained("a"));
    }

    @Test
    void theTokenCanComeFromAFile() throws Exception {
        Path file = dir.resolve("admin.token");
        Files.writeString(file, TOKEN + "\n");
        startWithAdmin("{ host: 127.0.0.1, port: 0, token-file: \"" + file + "\" }");
        assertEquals(401, http.post(admin, "/backends/b/drain").statusCode());
        assertEquals(200, http.post(admin, "/backends/b/drain", "Content-Type", "application/json; charset=utf-8",
                "Authorization", "Bearer " + TOKEN).statusCode());
        assertTrue(drained("b"));
        assertFalse(json(http.get(admin, "/config/status")).toString().contains(TOKEN), "never shown");
    }

    private void startWithAdmin(String adminSection) throws Exception {
        String yaml = AdminTestSupport.yaml("", "a=1", "b=2")
                .replace("admin: { host: 127.0.0.1, port: 0 }", "admin: " + adminSection)
                .replace("health: { path: /_hc, interval: 1h, timeout: 10s }\n", "health: { enabled: false }\n");
        balancer = new Balancer(ConfigLoader.parse(yaml, "test.yaml"), 1).start();
        admin = balancer.adminPort();
    }

    @Test
    void withoutATokenOnlyALoopbackAdminPortAcceptsStateChanges() {
        HttpHeaders headers = new DefaultHttpHeaders().set("Content-Type", "application/json").set("Host", "127.0.0.1");
        assertNull(AdminGuard.check(headers, AdminTokenConfig.NONE, true));
        AdminGuard.Refusal refusal = AdminGuard.check(headers, AdminTokenConfig.NONE, false);
        assertEquals(403, refusal.status().code());
        assertTrue(refusal.message().contains("admin.token"), refusal.message());
        assertNull(AdminGuard.check(headers.set("Authorization", "Bearer " + TOKEN),
                new AdminTokenConfig(TOKEN, "admin.token"), false));
        assertTrue(AdminServer.isLoopback("127.0.0.1"));
        assertTrue(AdminServer.isLoopback("::1"));
        assertFalse(AdminServer.isLoopback("0.0.0.0"));
    }

    @Test
    void withoutATokenTheHostMustBeLoopbackAgainstDnsRebinding() {
        HttpHeaders rebound = new DefaultHttpHeaders().set("Content-Type", "application/json")
                .set("Host", "evil.example:8081").set("Origin", "http://evil.example:8081");
        AdminGuard.Refusal refusal = AdminGuard.check(rebound, AdminTokenConfig.NONE, true);
        assertEquals(403, refusal.status().code());
        assertTrue(refusal.message().contains("Host"), refusal.message());
        assertNull(AdminGuard.check(rebound.set("Authorization", "Bearer " + TOKEN),
                new AdminTokenConfig(TOKEN, "admin.token"), true), "a page cannot know the token");
        assertTrue(AdminGuard.loopbackHost("127.0.0.1:8081"));
        assertTrue(AdminGuard.loopbackHost("localhost"));
        assertTrue(AdminGuard.loopbackHost("[::1]:8081"));
        assertFalse(AdminGuard.loopbackHost("127.0.0.1.evil.example"));
        assertFalse(AdminGuard.loopbackHost("10.0.0.1:8081"));
        assertFalse(AdminGuard.loopbackHost(null));
    }

    @Test
    void originMustMatchTheHostIncludingItsPort() {
        assertTrue(AdminGuard.sameOrigin("http://127.0.0.1:8081", "127.0.0.1:8081"));
        assertTrue(AdminGuard.sameOrigin("http://admin.example", "admin.example"));
        assertFalse(AdminGuard.sameOrigin("http://127.0.0.1:9999", "127.0.0.1:8081"));
        assertFalse(AdminGuard.sameOrigin("http://evil.example", "127.0.0.1:8081"));
        assertFalse(AdminGuard.sameOrigin("null", "127.0.0.1:8081"));
        assertFalse(AdminGuard.sameOrigin("http://127.0.0.1:8081", null));
    }

    @Test
    void explainShowsWhatWouldBeChosenAndWhy() throws Exception {
        start("");
        var body = json(http.get(admin, "/explain?region=local"));
        assertEquals("local", body.get("clientRegion").asText());
        assertEquals("query", body.get("regionSource").asText());
        assertTrue(body.get("summary").asText().startsWith("region=local(query) "), body.toString());
        var byDefault = json(http.get(admin, "/explain"));
        assertEquals("default", byDefault.get("regionSource").asText());
        assertTrue(byDefault.get("summary").asText().startsWith("region=default(default) "), byDefault.toString());
        assertEquals("local", body.get("pass").asText());
        assertTrue(body.get("chosen").asText().matches("a|b"), body.toString());
        assertEquals(2, body.get("candidates").size());
        assertEquals("routable", body.get("candidates").get(0).get("state").asText());
        // Round-robin has no cost: JSON null, not the string "NaN" where a number is expected.
        var candidate = body.get("candidates").get(0);
        assertTrue(candidate.get("cost").isNull() && candidate.get("errorFactor").isNull(), candidate.toString());
        assertTrue(candidate.get("inFlight").isNumber() && candidate.get("weight").isNumber(), candidate.toString());
        assertEquals(1.0, candidate.get("warmUp").asDouble(), candidate.toString());
        assertEquals(0.0, candidate.get("errorRate").asDouble(), candidate.toString());
        assertEquals(400, http.get(admin, "/explain?region=%3Cscript%3E").statusCode());
    }
}
