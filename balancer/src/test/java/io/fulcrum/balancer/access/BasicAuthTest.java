package io.fulcrum.balancer.access;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * A route's {@code basic-auth} over real sockets with the JDK's HTTP client: 401 with the
 * challenge without credentials or with wrong ones, the request through with right ones (its
 * {@code Authorization} removed unless kept), the users file re-read when it changes, and a
 * backend that never sees a refused request.
 */
class BasicAuthTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private ScriptedBackend backend;
    private Path users;

    @BeforeEach
    void start() throws Exception {
        backend = fx.backend("b1").echo(true);
        users = fx.dir().resolve("admin.htpasswd");
        // $2y$, as Apache's htpasswd -B writes it, and $2a$.
        Files.writeString(users, "alice:" + BCrypt.hashpw("wonderland", BCrypt.gensalt("$2y", 4)) + "\n"
                + "bob:" + BCrypt.hashpw("builder", BCrypt.gensalt(4)) + "\n");
    }

    private Balancer balancer(boolean forwardAuthorization) throws Exception {
        return fx.balancer(yaml(forwardAuthorization));
    }

    private BalancerYaml yaml(boolean forwardAuthorization) {
        return BalancerYaml.forProxy().backends(backend).set("access-log", fx.accessLog().toString())
                .merge("routes:\n"
                        + "  - name: admin\n    match: { path: { prefix: /admin } }\n    pool: default\n"
                        + "    basic-auth: { users-file: \"" + users + "\", realm: \"Fulcrum admin\","
                        + " forward-authorization: " + forwardAuthorization + " }\n"
                        + "  - { name: app, match: { path: { prefix: / } }, pool: default }\n");
    }

    private static HttpResponse<String> get(Balancer b, String path, String user, String password) throws Exception {
        return user == null ? Browser.get(b, path) : Browser.get(b, path, "Authorization", "Basic "
                + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void noWrongOrUnknownCredentialsGet401WithTheChallengeAndRightOnesPass() throws Exception {
        Balancer b = balancer(false);
        for (String[] creds : new String[][] {{null, null}, {"alice", "looking-glass"}, {"mallory", "wonderland"}}) {
            HttpResponse<String> r = get(b, "/admin/x", creds[0], creds[1]);
            assertEquals(401, r.statusCode(), creds[0] + ": " + r.body());
            assertEquals("Basic realm=\"Fulcrum admin\", charset=\"UTF-8\"",
                    r.headers().firstValue("WWW-Authenticate").orElse(null));
            assertTrue(r.body().startsWith("{\"error\":\"authentication required\""), r.body());
        }
        assertEquals(0, backend.requests(), "no refused request reached the backend");
        for (int i = 0; i < 2; i++) {
            // The second time the password is remembered and passes at once.
            HttpResponse<String> ok = get(b, "/admin/x", "alice", "wonderland");
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(!ok.body().toLowerCase().contains("\"authorization\""), "checked, then removed: " + ok.body());
        }
        assertEquals(200, get(b, "/admin/y", "bob", "builder").statusCode());
        assertEquals(200, get(b, "/other", null, null).statusCode(), "other routes ask nothing");
        assertEquals(3, b.proxy().accessRefused());
        var lines = fx.accessLogLines(l -> assertEquals(7, l.size()));
        assertEquals("authentication required", lines.get(0).get("error").asText());
        assertEquals("admin", lines.get(0).get("route").asText());
    }

    @Test
    void forwardAuthorizationKeepsTheHeaderForTheBackend() throws Exception {
        Balancer b = balancer(true);
        HttpResponse<String> ok = get(b, "/admin/x", "bob", "builder");
        assertEquals(200, ok.statusCode());
        assertTrue(ok.body().toLowerCase().contains("\"authorization\""), ok.body());
    }

    @Test
    void aChangedUsersFileIsReadAgainAndABrokenOneKeepsTheOld() throws Exception {
        Balancer b = balancer(false);
        assertEquals(401, get(b, "/admin", "carol", "c4rol").statusCode());
        Path next = fx.dir().resolve("next.htpasswd");
        Files.writeString(next, "carol:" + BCrypt.hashpw("c4rol", BCrypt.gensalt(4)) + "\n");
        Files.move(next, users, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        await().atMost(Fixtures.WAIT).until(() -> get(b, "/admin", "carol", "c4rol").statusCode() == 200);
        assertEquals(401, get(b, "/admin", "alice", "wonderland").statusCode(), "alice is gone from the file");

        Files.writeString(users, "carol:not-a-hash\n");
        await().atMost(Fixtures.WAIT).until(() -> b.reloader().lastResult() != null
                && !b.reloader().lastResult().applied());
        assertEquals(200, get(b, "/admin", "carol", "c4rol").statusCode(), "a broken file changes nothing");
        assertNull(b.proxy().settings().access().forRoute("app"), "only the admin route asks");
    }

    @Test
    void aReloadThatLeavesTheUsersAloneKeepsTheRememberedPasswords() throws Exception {
        Balancer b = balancer(false);
        assertEquals(200, get(b, "/admin/x", "alice", "wonderland").statusCode());
        BasicAuth before = b.proxy().settings().access().forRoute("admin").basicAuth();

        // Another key changes: the users, their hashes and the realm do not.
        fx.reload(yaml(false).set("timeouts.response", "9s"));
        BasicAuth after = b.proxy().settings().access().forRoute("admin").basicAuth();
        assertSame(before, after, "the route's basic authentication, and the passwords it remembers, are kept");
        assertEquals(200, get(b, "/admin/x", "alice", "wonderland").statusCode());

        // Another setting of the same basic authentication changes: a new one, remembering nothing.
        fx.reload(yaml(true));
        assertNotSame(after, b.proxy().settings().access().forRoute("admin").basicAuth(),
                "forward-authorization changed, so the route's basic authentication is new");
        assertEquals(200, get(b, "/admin/x", "alice", "wonderland").statusCode());
    }
}
