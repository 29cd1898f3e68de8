package io.fulcrum.balancer.balancing.e2e;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.balancing.Affinity;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Session affinity through a real balancer: consistent hashing with bounded load on a request
 * header, and cookie stickiness. One event loop, so that selections happen one at a time and the
 * load bound is exact.
 */
class AffinityE2eTest {
    private static final String HASH = """
            routing: { policy: round-robin, slow-start: 0s }
            affinity: { hash: { on: "header:X-User", balance-factor: 1.25 } }
            """;

    @RegisterExtension
    final Fixtures fx = new Fixtures(1);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static HttpLoad.Request user(String key) {
        return new HttpLoad.Request("GET", "/", Map.of("X-User", key), null);
    }

    /** Sends one request per key, one at a time, and says which backend answered each. */
    private static Map<String, String> ownerByKey(Balancer balancer, int keys) throws InterruptedException {
        HttpLoad.Result r = HttpLoad.to(balancer.port()).connections(1).requests(keys)
                .script(seq -> user("user-" + seq)).run();
        assertEquals(List.of(), r.failures(), r.summary());
        Map<String, String> owners = new HashMap<>();
        r.outcomes().forEach(o -> owners.put(o.request().headers().get("X-User"), o.backend()));
        assertEquals(keys, owners.size());
        return owners;
    }

    @Test
    void removingOneOfFiveBackendsMovesOnlyItsKeysAboutAFifth() throws Exception {
        ScriptedBackend[] b = fx.backends(5);
        BalancerYaml yaml = BalancerYaml.create().backends(b).merge(HASH);
        Balancer balancer = fx.balancer(yaml);
        int keys = 600;
        Map<String, String> before = ownerByKey(balancer, keys);
        assertEquals(before, ownerByKey(balancer, keys), "the same key goes to the same backend");

        fx.reload(yaml.clearBackends().backends(b[0], b[1], b[3], b[4]));
        Map<String, String> after = ownerByKey(balancer, keys);

        int moved = 0;
        int movedByModulo = 0;
        for (Map.Entry<String, String> e : before.entrySet()) {
            String now = after.get(e.getKey());
            if (!now.equals(e.getValue())) {
                moved++;
                assertEquals("b3", e.getValue(), e.getKey() + " moved from " + e.getValue() + " to " + now);
            }
            long h = Affinity.hash(e.getKey());
            if (Math.floorMod(h, 5) != Math.floorMod(h, 4)) {
                movedByModulo++;
            }
        }
        double fraction = (double) moved / keys;
        double modulo = (double) movedByModulo / keys;
        assertEquals(0.2, fraction, 0.08, "moved " + moved + " of " + keys);
        assertTrue(modulo > 0.7, "modulo hashing would move " + modulo);
        assertTrue(fraction < modulo / 2.5, fraction + " vs modulo " + modulo);
    }

    @Test
    void manyKeysSpreadAndHotKeysNeverPassTheLoadBound() throws Exception {
        ScriptedBackend[] b = fx.backends(4);
        Balancer balancer = fx.balancer(BalancerYaml.create().backends(b).merge(HASH));
        Map<String, Long> share = new HashMap<>();
        ownerByKey(balancer, 800).values().forEach(id -> share.merge(id, 1L, Long::sum));
        for (ScriptedBackend s : b) {
            assertEquals(200, share.getOrDefault(s.name(), 0L), 80, "keys per backend: " + share);
        }

        // 40 requests held at once, all with one of two keys: without the bound two backends
        // would hold 20 each; with it none holds more than ceil(1.25 × 40 / 4) = 13.
        Arrays.stream(b).forEach(s -> s.hold(true));
        HttpLoad load = HttpLoad.to(balancer.port()).connections(40).requests(40)
                .script(seq -> user("hot-" + (seq % 2))).start();
        await().atMost(WAIT).until(() -> Arrays.stream(b).mapToInt(ScriptedBackend::holding).sum() == 40);
        for (ScriptedBackend s : b) {
            // 3 × 13 < 40, so the bound also means that every backend took a share.
            assertTrue(s.holding() <= 13 && s.holding() >= 1, s.name() + " holds " + s.holding());
        }
        Arrays.stream(b).forEach(s -> {
            s.hold(false);
            s.release();
        });
        HttpLoad.Result r = load.await(WAIT);
        assertEquals(List.of(), r.failures(), r.summary());
    }

    @Test
    void aBusyOwnerShedsItsKeyToTheNextBackendAndGetsItBackWhenIdle() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        Balancer balancer = fx.balancer(BalancerYaml.create().backends(b).merge(HASH));
        String ownerName = ownerByKey(balancer, 1).get("user-0");
        ScriptedBackend owner = Arrays.stream(b).filter(s -> s.name().equals(ownerName)).findFirst().orElseThrow();

        owner.hold(true);
        HttpLoad load = HttpLoad.to(balancer.port()).connections(10).requests(60)
                .script(seq -> user("user-0")).start();
        await().atMost(WAIT).until(() -> load.completed() + owner.holding() == 60);
        // At most 10 in flight in all: the owner's bound is ceil(1.25 × 10 / 3) = 5.
        assertTrue(owner.holding() >= 1 && owner.holding() <= 5, "the owner holds " + owner.holding());
        HttpLoad.Result served = load.snapshot();
        assertEquals(List.of(), served.failures(), served.summary());
        assertEquals(0, served.servedBy(ownerName), "the rest went elsewhere: " + served.servedBy());

        owner.hold(false);
        owner.release();
        HttpLoad.Result all = load.await(WAIT);
        assertEquals(List.of(), all.failures(), all.summary());
        await().atMost(WAIT).until(() -> balancer.registry().current().byId(ownerName).state().inFlight() == 0);
        assertEquals(ownerName, ownerByKey(balancer, 1).get("user-0"), "idle again: back to its owner");
    }

    @Test
    void requestsWithoutTheKeyUseThePoolsPolicy() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        Balancer balancer = fx.balancer(BalancerYaml.create().backends(b).merge(HASH));
        HttpLoad.Result r = HttpLoad.to(balancer.port()).connections(1).requests(30).run();
        assertEquals(List.of(), r.failures(), r.summary());
        assertEquals(Map.of("b1", 10, "b2", 10, "b3", 10), r.servedBy(), "round-robin");
    }

    @Test
    void clientAddressHashingUsesTheAddressTrustedEdgesName() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        Balancer balancer = fx.balancer(BalancerYaml.create().backends(b).merge("""
                routing: { policy: round-robin, slow-start: 0s }
                affinity: { hash: { on: client-address } }
                trusted-edges: { networks: [127.0.0.0/8] }
                """));
        HttpLoad.Result r = HttpLoad.to(balancer.port()).connections(1).requests(120)
                .script(seq -> new HttpLoad.Request("GET", "/", Map.of("X-Forwarded-For", "198.51.100." + (seq % 30)),
                        null)).run();
        assertEquals(List.of(), r.failures(), r.summary());
        Map<String, Set<String>> byClient = new HashMap<>();
        r.outcomes().forEach(o -> byClient.computeIfAbsent(o.request().headers().get("X-Forwarded-For"),
                k -> new HashSet<>()).add(o.backend()));
        assertEquals(30, byClient.size());
        byClient.forEach((client, served) -> assertEquals(1, served.size(), client + " went to " + served));
        assertEquals(3, r.servedBy().size(), "30 clients over 3 backends: " + r.servedBy());

        // Without trusted edges every request comes from 127.0.0.1: one key, one backend.
        ScriptedBackend[] c = fx.backends(3);
        Balancer untrusting = fx.balancer(BalancerYaml.create().backends(c).merge("""
                routing: { policy: round-robin, slow-start: 0s }
                affinity: { hash: { on: client-address } }
                """).config());
        HttpLoad.Result one = HttpLoad.to(untrusting.port()).connections(1).requests(30)
                .script(seq -> new HttpLoad.Request("GET", "/", Map.of("X-Forwarded-For", "198.51.100." + seq), null))
                .run();
        assertEquals(1, one.servedBy().size(), one.servedBy().toString());
    }

    // ---- cookies ----

    private HttpResponse<String> get(Balancer balancer, String cookie) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/"))
                .timeout(Duration.ofSeconds(10));
        if (cookie != null) {
            req.header("Cookie", "other=1; " + cookie);
        }
        HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r;
    }

    private static String servedBy(HttpResponse<String> r) {
        return r.headers().firstValue(Fixtures.BACKEND_HEADER).orElseThrow();
    }

    /** The value of the SRV cookie the response sets, or null when it sets none. */
    private static String pin(HttpResponse<String> r) {
        List<String> set = r.headers().allValues("set-cookie");
        if (set.isEmpty()) {
            return null;
        }
        assertEquals(1, set.size(), set.toString());
        String c = set.get(0);
        assertTrue(c.startsWith("SRV="), c);
        assertTrue(c.contains("; HTTPOnly") || c.contains("; HttpOnly"), c);
        assertTrue(c.contains("; Path=/"), c);
        assertTrue(c.contains("; SameSite=Lax"), c);
        assertFalse(c.contains("Secure"), "plain HTTP: " + c);
        return c.substring(4, c.indexOf(';'));
    }

    @Test
    void aCookiePinsTheClientWhileItsBackendIsUpAndRepinsWhenItDies() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        BalancerYaml yaml = BalancerYaml.activeChecks().backends(b).merge("""
                routing: { policy: round-robin, slow-start: 0s }
                health: { interval: 100ms, timeout: 1s, rise: 1, fall: 1 }
                affinity: { cookie: { name: SRV } }
                """);
        Balancer balancer = fx.readyBalancer(yaml);

        HttpResponse<String> first = get(balancer, null);
        String token = pin(first);
        String pinned = servedBy(first);
        // Opaque: an HMAC, not the id (a short id may well occur by chance among its characters).
        assertTrue(token != null && token.length() >= 16 && !token.equals(pinned)
                && !new String(java.util.Base64.getUrlDecoder().decode(token), java.nio.charset.StandardCharsets.ISO_8859_1)
                        .contains(pinned), "opaque: " + token);
        Set<String> withoutCookie = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            withoutCookie.add(servedBy(get(balancer, null)));
        }
        assertEquals(3, withoutCookie.size(), "without the cookie, round-robin");
        for (int i = 0; i < 12; i++) {
            HttpResponse<String> r = get(balancer, "SRV=" + token);
            assertEquals(pinned, servedBy(r));
            assertEquals(null, pin(r), "already pinned: no new cookie");
        }

        // A reload keeps the (generated) secret: the cookie still holds.
        fx.reload(yaml.set("timeouts.response", "6s"));
        assertEquals(pinned, servedBy(get(balancer, "SRV=" + token)));

        // Forged and damaged cookies are ignored: balanced, and pinned anew.
        String damaged = token.substring(0, token.length() - 1) + (token.endsWith("A") ? "B" : "A");
        for (String forged : List.of("SRV=" + pinned, "SRV=" + damaged, "SRV=", "SRV=%%%")) {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = get(balancer, forged);
                seen.add(servedBy(r));
                String repinned = pin(r);
                assertTrue(repinned != null && !repinned.equals(forged.substring(4)), forged + " -> " + repinned);
            }
            assertEquals(3, seen.size(), forged + " was ignored: round-robin");
        }

        ScriptedBackend dying = Arrays.stream(b).filter(s -> s.name().equals(pinned)).findFirst().orElseThrow();
        dying.kill();
        await().atMost(WAIT).until(() -> !balancer.registry().current().byId(pinned).state().healthy());
        HttpResponse<String> moved = get(balancer, "SRV=" + token);
        String next = servedBy(moved);
        assertNotEquals(pinned, next);
        String newToken = pin(moved);
        assertTrue(newToken != null && !newToken.equals(token), "re-pinned: " + newToken);
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = get(balancer, "SRV=" + newToken);
            assertEquals(next, servedBy(r));
            assertEquals(null, pin(r));
        }
    }

    @Test
    void balancersSharingASecretHonourEachOthersCookiesAndOthersDoNot() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        BalancerYaml shared = BalancerYaml.create().backends(b).merge("""
                routing: { policy: round-robin, slow-start: 0s }
                affinity: { cookie: { name: SRV, secret: "a shared secret of the fleet" } }
                """);
        Balancer one = fx.balancer(shared.config());
        Balancer two = fx.balancer(shared.config());
        Balancer own = fx.balancer(BalancerYaml.create().backends(b).merge("""
                routing: { policy: round-robin, slow-start: 0s }
                affinity: { cookie: { name: SRV } }
                """).config());

        HttpResponse<String> first = get(one, null);
        String token = pin(first);
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = get(two, "SRV=" + token);
            assertEquals(servedBy(first), servedBy(r));
            assertEquals(null, pin(r));
        }
        HttpResponse<String> other = get(own, "SRV=" + token);
        assertTrue(pin(other) != null, "a balancer with its own secret does not know the cookie");
    }
}
