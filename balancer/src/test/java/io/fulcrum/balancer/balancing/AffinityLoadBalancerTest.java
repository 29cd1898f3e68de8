package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static io.fulcrum.balancer.balancing.RoutingFixtures.occupy;
import static io.fulcrum.balancer.balancing.RoutingFixtures.routing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.AffinityConfig;
import io.fulcrum.balancer.config.RoutingConfig.Policy;
import io.fulcrum.balancer.config.RoutingConfig;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Affinity in front of the pool's policy: when the cookie or key decides, and when the policy does. */
class AffinityLoadBalancerTest {
    private final FakeClock clock = new FakeClock();
    private final List<Backend> backends = List.of(backend("a", 1, clock), backend("b", 1, clock), backend("c", 1, clock));

    private LoadBalancer build(AffinityConfig affinity, LoadBalancer previous) {
        RoutingConfig r = routing(Policy.ROUND_ROBIN).withAffinity(affinity);
        return LoadBalancerFactory.create("us-east", r, backends, previous, clock, new SplittableRandom(1));
    }

    private static RequestInfo cookie(String value) {
        return new RequestInfo(null, List.of(), value, 0, false);
    }

    private static AffinityConfig cookieAffinity(String secret) {
        return new AffinityConfig(new AffinityConfig.Cookie("SRV",
                secret == null ? null : secret.getBytes(StandardCharsets.UTF_8), null), null);
    }

    @Test
    void aValidCookieChoosesItsBackendWhileItCanTakeTheRequest() {
        LoadBalancer lb = build(cookieAffinity(null), null);
        Backend b = backends.get(1);
        String token = lb.affinity().cookieValue(b);
        for (int i = 0; i < 10; i++) {
            assertSame(b, lb.select(cookie(token)));
        }
        DecisionTrace trace = DecisionTrace.compactTrace();
        lb.select(cookie(token), trace);
        assertEquals(DecisionTrace.Pass.AFFINITY, trace.pass());

        assertNotEquals(b, lb.select(new RequestInfo(null, List.of(b), token, 0, false)), "a retry avoids it");
        b.state().setDraining(true);
        assertNotEquals(b, lb.select(cookie(token)), "draining: the policy chooses");
        b.state().setDraining(false);
        occupy(b, b.maxInFlight());
        assertNotEquals(b, lb.select(cookie(token)), "full: the policy chooses");
    }

    @Test
    void anUnknownCookieLeavesTheChoiceToThePolicy() {
        LoadBalancer lb = build(cookieAffinity(null), null);
        Set<String> chosen = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            chosen.add(lb.select(cookie("forged")).id());
        }
        assertEquals(Set.of("a", "b", "c"), chosen, "round-robin");
    }

    @Test
    void tokensAreStableForASecretAndAGeneratedSecretSurvivesASwap() {
        LoadBalancer one = build(cookieAffinity("a fleet-wide secret"), null);
        LoadBalancer two = build(cookieAffinity("a fleet-wide secret"), null);
        Backend a = backends.get(0);
        assertEquals(one.affinity().cookieValue(a), two.affinity().cookieValue(a));
        assertEquals(22, one.affinity().cookieValue(a).length(), "16 bytes, base64url");

        LoadBalancer generated = build(cookieAffinity(null), null);
        LoadBalancer swapped = build(cookieAffinity(null), generated);
        LoadBalancer fresh = build(cookieAffinity(null), null);
        assertEquals(generated.affinity().cookieValue(a), swapped.affinity().cookieValue(a));
        assertNotEquals(generated.affinity().cookieValue(a), fresh.affinity().cookieValue(a));
    }

    private Backend sink;

    @Test
    void affineSelectionAllocatesNothing() {
        LoadBalancer hashed = build(new AffinityConfig(null,
                new AffinityConfig.Hash(AffinityConfig.Hash.Source.HEADER, "X-User", 1.25)), null);
        LoadBalancer pinned = build(cookieAffinity(null), null);
        RequestInfo[] keyed = new RequestInfo[64];
        for (int i = 0; i < keyed.length; i++) {
            keyed[i] = new RequestInfo(null, List.of(), null, Affinity.hash("user-" + i), true);
        }
        RequestInfo withCookie = cookie(pinned.affinity().cookieValue(backends.get(2)));
        // Long enough for the JIT to compile the path (escape analysis removes what C1 would allocate).
        for (int i = 0; i < 200_000; i++) {
            sink = hashed.select(keyed[i & 63]);
            sink = pinned.select(withCookie);
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++) {
            sink = hashed.select(keyed[i & 63]);
            sink = pinned.select(withCookie);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertSame(backends.get(2), sink);
        assertTrue(allocated < 4096, "selection allocated " + allocated + " bytes over 200,000 calls");
    }

    @Test
    void aRequestWithoutTheHashKeyUsesThePolicy() {
        LoadBalancer lb = build(new AffinityConfig(null,
                new AffinityConfig.Hash(AffinityConfig.Hash.Source.PATH, null, 1.25)), null);
        Set<String> chosen = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            chosen.add(lb.select(RequestInfo.DEFAULT).id());
        }
        assertEquals(Set.of("a", "b", "c"), chosen);
        RequestInfo keyed = new RequestInfo(null, List.of(), null, Affinity.hash("/posts/7"), true);
        Backend owner = lb.select(keyed);
        for (int i = 0; i < 6; i++) {
            assertSame(owner, lb.select(keyed));
        }
        assertNull(lb.affinity().cookieValue(owner), "no cookie with hash affinity");
    }
}
