package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static io.fulcrum.balancer.balancing.RoutingFixtures.occupy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ring of hash affinity: how keys spread and how few move; the load bound. */
class HashRingTest {
    private static final int KEYS = 100_000;
    private final FakeClock clock = new FakeClock();
    /** The pool of the load-bound tests: four backends b1 to b4 of weight 1, and their ring. */
    private final List<Backend> four = backends(4);
    private final HashRing fourRing = ring(four);

    private List<Backend> backends(int n) {
        List<Backend> list = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            list.add(backend("b" + i, 1, clock));
        }
        return list;
    }

    /** A ring over {@code backends} with a load factor of 1.25. */
    private static HashRing ring(List<Backend> backends) {
        return new HashRing(backends, 1.25);
    }

    /** The backend the ring picks for {@code k} by capacity, nothing excluded. */
    private static Backend pick(HashRing ring, long k) {
        return ring.pick(k, Admission.CAPACITY, List.of(), 0);
    }

    private static long key(int i) {
        return Affinity.hash("user-" + i);
    }

    @Test
    void removingOneOfTenBackendsMovesAboutATenthOfTheKeysAndOnlyItsOwn() {
        List<Backend> all = backends(10);
        HashRing before = ring(all);
        List<Backend> nine = new ArrayList<>(all);
        Backend removed = nine.remove(4);
        HashRing after = ring(nine);

        int moved = 0;
        int movedByModulo = 0;
        for (int i = 0; i < KEYS; i++) {
            long k = key(i);
            Backend was = before.owner(k);
            Backend is = after.owner(k);
            if (was != is) {
                moved++;
                assertSame(removed, was, "only the removed backend's keys move");
            } else {
                assertNotEquals(removed, is);
            }
            if (Math.floorMod(k, 10) != Math.floorMod(k, 9)) {
                movedByModulo++;
            }
        }
        double fraction = (double) moved / KEYS;
        double moduloFraction = (double) movedByModulo / KEYS;
        assertTrue(fraction > 0.06 && fraction < 0.14, "moved " + fraction + ", expected about 1/10");
        assertTrue(moduloFraction > 0.85, "modulo hashing moves " + moduloFraction);
        assertTrue(fraction < moduloFraction / 5, fraction + " vs modulo " + moduloFraction);
    }

    @Test
    void keysSpreadInProportionToWeight() {
        List<Backend> list = List.of(backend("a", 1, clock), backend("b", 1, clock), backend("c", 2, clock),
                backend("d", 4, clock));
        HashRing ring = ring(list);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            counts.merge(ring.owner(key(i)).id(), 1, Integer::sum);
        }
        Map<String, Double> expected = Map.of("a", 1 / 8.0, "b", 1 / 8.0, "c", 2 / 8.0, "d", 4 / 8.0);
        expected.forEach((id, share) -> {
            double got = counts.get(id) / (double) KEYS;
            assertEquals(share, got, share * 0.2, id + " got " + got + " of the keys: " + counts);
        });
    }

    @Test
    void aKeyWalksOnPastABackendAtItsLoadBound() {
        long k = key(7);
        Backend owner = fourRing.owner(k);
        assertSame(owner, pick(fourRing, k), "an idle pool: the owner");

        // 8 in flight on the owner: bound = ceil(1.25 × 9 / 4) = 3.
        occupy(owner, 8);
        Backend diverted = pick(fourRing, k);
        assertNotNull(diverted);
        assertNotEquals(owner, diverted);
        assertSame(diverted, pick(fourRing, k), "diverted along the ring, always the same way");

        // The others busy too: 8 each, bound = ceil(1.25 × 33 / 4) = 11, so the owner is back.
        for (Backend b : four) {
            if (b != owner) {
                occupy(b, 8);
            }
        }
        assertSame(owner, pick(fourRing, k));
    }

    @Test
    void noBackendTakesMoreThanTheFactorTimesTheAverageUnderOneHotKey() {
        long hot = key(1);
        for (int i = 0; i < 200; i++) {
            Backend b = pick(fourRing, hot);
            assertTrue(b.tryAcquire());
            int total = four.stream().mapToInt(x -> x.state().inFlight()).sum();
            for (Backend x : four) {
                assertTrue(x.state().inFlight() <= Math.ceil(1.25 * total / 4),
                        x + " holds " + x.state().inFlight() + " of " + total);
            }
        }
    }

    @Test
    void anExcludedOrUnroutableOwnerIsPassedOver() {
        long k = key(3);
        Backend owner = fourRing.owner(k);
        Backend next = fourRing.pick(k, Admission.CAPACITY_AVOIDING, List.of(owner), 0);
        assertNotEquals(owner, next);
        owner.state().setDraining(true);
        assertSame(next, pick(fourRing, k));
    }

    @Test
    void anEmptyRingPicksNothing() {
        HashRing ring = ring(List.of());
        assertEquals(null, pick(ring, 1));
    }
}
