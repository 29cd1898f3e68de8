package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.assertOnlyFreeBackendThenNone;
import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static io.fulcrum.balancer.balancing.RoutingFixtures.occupy;
import static io.fulcrum.balancer.balancing.RoutingFixtures.tally;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.LeastBusyConfig;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LeastBusyLoadBalancerTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private final FakeClock clock = new FakeClock();
    private final Backend a = backend("a", 1, clock);
    private final Backend b = backend("b", 1, clock);
    private final Backend c = backend("c", 1, clock);

    @Test
    void avoidsABackendWithManyRequestsInFlight() {
        List.of(a, b, c).forEach(x -> answered(x, 2 * MS));
        occupy(a, 40);
        occupy(b, 1);
        occupy(c, 1);

        LoadBalancer lb = leastBusy(List.of(a, b, c), 0);
        Map<String, Integer> counts = tally(3000, () -> lb.select(RequestInfo.DEFAULT));

        assertEquals(0, counts.getOrDefault("a", 0), "a loses every comparison: " + counts);
        assertTrue(counts.get("b") > 1000 && counts.get("c") > 1000, "b and c share the rest: " + counts);
    }

    @Test
    void avoidsASlowBackendUnderLoad() {
        LoadBalancer lb = leastBusy(List.of(a, b, c), 0);
        LoadSimulation sim = new LoadSimulation(clock, lb)
                .serviceTime("a", 10, TimeUnit.MILLISECONDS)
                .serviceTime("b", 1, TimeUnit.MILLISECONDS)
                .serviceTime("c", 1, TimeUnit.MILLISECONDS);

        // One request every 50 µs against 1 ms backends: about 20 in flight, like a busy proxy.
        sim.run(6000, 50);

        assertEquals(0, sim.rejected());
        double slowShare = sim.picks("a") / 6000.0;
        assertTrue(slowShare < 1 / 6.0, "the 10x slower backend got " + slowShare + " (equal share: 1/3)");
    }

    @Test
    void avoidsABackendThatReportsHighLoad() {
        List.of(a, b, c).forEach(x -> answered(x, 2 * MS));
        a.state().setReportedLoad(0.95, clock.nanoTime() + TimeUnit.HOURS.toNanos(1));
        LoadBalancer lb = leastBusy(List.of(a, b, c), 0);
        LoadSimulation sim = new LoadSimulation(clock, lb);

        sim.run(6000, 100);

        double loadedShare = sim.picks("a") / 6000.0;
        assertTrue(loadedShare < 1 / 6.0, "the loaded backend got " + loadedShare + " (equal share: 1/3)");
    }

    @Test
    void inFlightSettlesInProportionToWeight() {
        Backend heavy = backend("heavy", 3, clock);
        LoadBalancer lb = leastBusy(List.of(a, heavy), 0);
        LoadSimulation sim = new LoadSimulation(clock, lb);

        sim.run(8000, 50);

        double heavyShare = sim.picks("heavy") / 8000.0;
        assertTrue(heavyShare > 0.6 && heavyShare < 0.9, "weight 3 of 4 got " + heavyShare);
    }

    @Test
    void aRecoveredBackendAsFastAsItsPeersIsAtFullShareAtOnce() {
        long window = TimeUnit.SECONDS.toNanos(10);
        LoadBalancer lb = leastBusy(List.of(a, b), window);
        List.of(a, b).forEach(x -> answered(x, MS));
        b.state().markRecovered(clock.nanoTime());

        // 2000 requests at 1 per 50 µs take 0.1 s: a time ramp alone would leave b near a tenth.
        int early = new LoadSimulation(clock, lb).run(2000, 50).picks("b");

        assertTrue(early > 800 && early < 1200, "recovered backend answering like its peer got " + early + " of 2000");
    }

    @Test
    void warmUpFollowsTheLatencyShownSinceRecoveryAgainstThePools() {
        long window = TimeUnit.SECONDS.toNanos(10);
        LeastBusyLoadBalancer lb = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(3), window);
        List.of(a, b).forEach(x -> answered(x, 2 * MS));
        c.state().markRecovered(clock.nanoTime());
        clock.advance(1, TimeUnit.SECONDS);
        long now = clock.nanoTime();
        assertEquals(0.1, lb.warmUp(c, now), 1e-9, "no answer yet: the time ramp");

        List.of(a, b).forEach(x -> answered(x, 2 * MS));
        answered(c, 8 * MS);
        assertEquals(0.25, lb.warmUp(c, clock.nanoTime()), 1e-9, "four times the pool's latency: a quarter");
        assertEquals(2 * MS * 1 / 0.25, lb.cost(c, clock.nanoTime()), 1e-3,
                "while warming, the pool's latency stands in for its own: 2 ms × (0 + 1) / 0.25");
        clock.advance(10, TimeUnit.SECONDS);
        assertEquals(1, lb.warmUp(c, clock.nanoTime()), "the window bounds warm-up");
    }

    @Test
    void aRestartedBackendWithColdAnswersStillGetsItsRampedShare() {
        long window = TimeUnit.SECONDS.toNanos(10);
        LoadBalancer lb = leastBusy(List.of(a, b), window);
        answered(a, 2 * MS);
        b.state().markRecovered(clock.nanoTime());
        // The restarted process is cold: its answers take 20 times as long as the warm peer's.
        LoadSimulation first = new LoadSimulation(clock, lb)
                .serviceTime("a", 2, TimeUnit.MILLISECONDS)
                .serviceTime("b", 40, TimeUnit.MILLISECONDS);
        LoadSimulation second = new LoadSimulation(clock, lb)
                .serviceTime("a", 2, TimeUnit.MILLISECONDS)
                .serviceTime("b", 40, TimeUnit.MILLISECONDS);

        // About 60 requests a second, mostly one at a time, as a person on the page and a script
        // make: 300 in each half of the ramp.
        int early = first.run(300, 16_667).picks("b");
        int late = second.run(300, 16_667).picks("b");

        // While idle, the ramp's share against an idle peer is f / (1 + f); while it holds a
        // request its 40 ms answers make it costlier than the warm peer. So it gets a trickle that
        // grows with the ramp: about 15 % over the first half, about 25 % over the second.
        assertTrue(early > 30, "first half of the ramp: " + early + " of 300");
        assertTrue(late > 60, "second half of the ramp: " + late + " of 300");
        assertTrue(late > early, early + " then " + late);
    }

    @Test
    void aBackendThatNeverAnsweredGetsOneRequestThenWaits() {
        List.of(a, b).forEach(x -> answered(x, 5 * MS));
        occupy(a, 3);
        occupy(b, 3);
        LoadBalancer lb = leastBusy(List.of(a, b, c), 0);

        assertEquals(1, tally(200, () -> pickAndHold(lb)).getOrDefault("c", 0),
                "new backend c is tried once, then avoided until it answers");
    }

    @Test
    void neverReturnsAFullBackend() {
        Backend small = backend("small", "us-east", 1, 2, clock);
        LoadBalancer lb = leastBusy(List.of(small, a), 0);
        occupy(small, 2);
        occupy(a, 500);

        assertOnlyFreeBackendThenNone(lb, a, 100, 500);
    }

    @Test
    void findsTheOnlyFreeBackendAmongMany() {
        List<Backend> many = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) {
            Backend x = backend("x" + i, "us-east", 1, 1, clock);
            many.add(x);
            if (i != 17) {
                occupy(x, 1);
            }
        }
        LoadBalancer lb = leastBusy(many, 0);

        assertEquals(Map.of("x17", 50), tally(50, () -> lb.select(RequestInfo.DEFAULT)));
    }

    @Test
    void excludedBackendIsAvoidedWhileAnotherExists() {
        LoadBalancer lb = leastBusy(List.of(a, b), 0);
        RequestInfo retry = new RequestInfo(null, List.of(a));

        assertEquals(Map.of("b", 50), tally(50, () -> lb.select(retry)));
        b.state().setDraining(true);
        assertEquals("a", lb.select(retry).id());
    }

    @Test
    void sameSeedSameChoices() {
        List.of(a, b, c).forEach(x -> answered(x, MS));
        LoadBalancer one = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(9), 0);
        LoadBalancer two = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(9), 0);
        LoadBalancer other = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(10), 0);

        StringBuilder s1 = new StringBuilder();
        StringBuilder s2 = new StringBuilder();
        StringBuilder s3 = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            s1.append(one.select(RequestInfo.DEFAULT).id());
            s2.append(two.select(RequestInfo.DEFAULT).id());
            s3.append(other.select(RequestInfo.DEFAULT).id());
        }
        assertEquals(s1.toString(), s2.toString());
        assertNotEquals(s1.toString(), s3.toString());
    }

    @Test
    void costGrowsWithInFlightLatencyAndLoadAndShrinksWithWeight() {
        LeastBusyLoadBalancer lb = new LeastBusyLoadBalancer(List.of(a), clock, new SplittableRandom(1), 0);
        Backend x = backend("x", 1, clock);
        answered(x, MS);
        long now = clock.nanoTime();
        double base = lb.cost(x, now);

        occupy(x, 1);
        assertEquals(2 * base, lb.cost(x, now), 1e-6);
        x.state().setReportedLoad(1, clock.nanoTime() + TimeUnit.HOURS.toNanos(1));
        assertEquals(20 * base, lb.cost(x, now), 1e-3);

        Backend heavy = backend("heavy", 4, clock);
        answered(heavy, MS);
        assertEquals(base / 4, lb.cost(heavy, now), 1e-6);
    }

    @Test
    void aSmallPoolIsScannedForTheExactLeastBusy() {
        List<Backend> pool = new java.util.ArrayList<>();
        int[] inFlight = {3, 2, 4, 1, 3, 2};
        for (int i = 0; i < inFlight.length; i++) {
            Backend x = backend("s" + i, 1, clock);
            answered(x, 2 * MS);
            occupy(x, inFlight[i]);
            pool.add(x);
        }
        LoadBalancer lb = leastBusy(pool, 0);

        // Two random choices would find s3 in only a third of the draws.
        assertEquals(Map.of("s3", 300), tally(300, () -> lb.select(RequestInfo.DEFAULT)));
    }

    @Test
    void latenciesWithinTheEqualBandGoByRequestsInFlightAndASlowerOneWeighsItsRatioSquared() {
        answered(a, 10 * MS);
        answered(b, 14 * MS);
        answered(c, 30 * MS);
        occupy(a, 2);
        occupy(b, 1);
        LeastBusyLoadBalancer lb = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(2), 0);
        long now = clock.nanoTime();

        // a and b are within 1.5 x of the lowest (10 ms): both weigh 15 ms, so in flight decides.
        assertEquals(15 * MS * 3, lb.cost(a, now), 1e-3);
        assertEquals(15 * MS * 2, lb.cost(b, now), 1e-3);
        // c is twice the band: (30 / 15)^2 x 15 ms, idle, costs more than b with one in flight.
        assertEquals(15 * MS * 4, lb.cost(c, now), 1e-3);
        assertEquals(Map.of("b", 50), tally(50, () -> lb.pick(Admission.CAPACITY, List.of(), now)));

        // Once b and a hold four each (15 ms x 5 = 75), the slower backend (60) takes its turn.
        occupy(b, 3);
        occupy(a, 2);
        assertEquals("c", lb.pick(Admission.CAPACITY, List.of(), now).id());
    }

    @Test
    void equalCostsAreSharedAtRandom() {
        List.of(a, b, c).forEach(x -> answered(x, 2 * MS));
        LoadBalancer lb = leastBusy(List.of(a, b, c), 0);

        Map<String, Integer> counts = tally(3000, () -> lb.select(RequestInfo.DEFAULT));

        List.of("a", "b", "c").forEach(id -> assertTrue(counts.get(id) > 850, "ties shared: " + counts));
    }

    @Test
    void aLargePoolComparesRandomChoices() {
        List<Backend> pool = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Backend x = backend("x" + i, 1, clock);
            answered(x, 2 * MS);
            occupy(x, i == 7 ? 0 : 2);
            pool.add(x);
        }
        LoadBalancer twoChoices = new LeastBusyLoadBalancer(pool, clock, new SplittableRandom(4), 0,
                new LeastBusyConfig(16, 2, 4));
        LoadBalancer scanned = new LeastBusyLoadBalancer(pool, clock, new SplittableRandom(4), 0,
                new LeastBusyConfig(64, 2, 4));

        int drawn = tally(4000, () -> twoChoices.select(RequestInfo.DEFAULT)).getOrDefault("x7", 0);
        // x7 is in one of two draws from 40: 2/40 = 5 %.
        assertTrue(drawn > 120 && drawn < 300, "two choices found the idle one " + drawn + " times of 4000");
        assertEquals(Map.of("x7", 100), tally(100, () -> scanned.select(RequestInfo.DEFAULT)), "exact-max 64 scans");
    }

    @Test
    void aBackendFailingFastLosesShareWithItsErrorRateButKeepsSome() {
        LoadBalancer lb = leastBusy(List.of(a, b, c), 0);
        LoadSimulation sim = new LoadSimulation(clock, lb).failFast("c", 3);

        // 30 s at one request every 100 µs against 1 ms backends: about 10 in flight.
        sim.run(300_000, 100);

        double share = sim.picks("c") / 300_000.0;
        assertTrue(share > 0.05 && share < 0.30, "30 % failing backend got " + share + " (equal share: 1/3)");
    }

    @Test
    void theErrorTermMultipliesTheCost() {
        LeastBusyLoadBalancer lb = new LeastBusyLoadBalancer(List.of(a), clock, new SplittableRandom(1), 0,
                new LeastBusyConfig(16, 2, 4));
        answered(a, MS);
        long now = clock.nanoTime();
        double clean = lb.cost(a, now);
        assertEquals(1, lb.errorFactor(a, now), 1e-9);
        // Failing for a long while: the error rate approaches 1 and the cost 1 + 4 times as high.
        for (int i = 0; i < 300; i++) {
            clock.advance(10, TimeUnit.MILLISECONDS);
            assertTrue(a.tryAcquire());
            a.state().onRequestEnd(100_000, Outcome.SERVER_ERROR, clock.nanoTime());
        }
        long later = clock.nanoTime();
        double rate = a.state().recentErrorRate(later);
        assertTrue(rate > 0.99, "rate " + rate);
        assertEquals(1 + 4 * rate, lb.errorFactor(a, later), 1e-9);
        double latency = a.state().latencyMeanNanos(later);
        assertEquals(MS * Math.exp(-3.0 / 10), latency, 1e-6 * clean,
                "the fast failures left the latency estimate where the answer put it, faded for 3 s");
        // Alone in its pool, its own latency is the lowest: the equal-latency band lifts it 1.5 times.
        assertEquals((1 + 4 * rate) * LeastBusyCost.EQUAL_LATENCY * latency, lb.cost(a, later), 1e-6 * clean);
    }

    private Backend pickAndHold(LoadBalancer lb) {
        Backend x = lb.select(RequestInfo.DEFAULT);
        if (x != null) {
            assertTrue(x.tryAcquire());
        }
        return x;
    }

    private void answered(Backend x, long latencyNanos) {
        assertTrue(x.tryAcquire());
        x.state().onRequestEnd(latencyNanos, Outcome.SUCCESS, clock.nanoTime());
    }

    private LoadBalancer leastBusy(List<Backend> backends, long slowStartNanos) {
        return new LeastBusyLoadBalancer(backends, clock, new SplittableRandom(11), slowStartNanos);
    }

    @Test
    void aBackendThatStopsAnsweringBecomesCostlyBeforeAnyTimeout() {
        List.of(a, b, c).forEach(x -> answered(x, 2 * MS));
        LeastBusyLoadBalancer lb = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(5), 0);
        long now = clock.nanoTime();
        occupy(b, 1);
        double busy = lb.cost(b, now);
        assertEquals(2 * lb.cost(a, now), busy, 1e-6, "just busy: judged on its average");

        // b finishes nothing for 50 ms while a and c keep answering.
        clock.advance(50, TimeUnit.MILLISECONDS);
        answered(a, 2 * MS);
        answered(c, 2 * MS);
        long later = clock.nanoTime();
        assertTrue(lb.cost(b, later) > 10 * lb.cost(a, later), "stalled for 50 ms with a 2 ms average");
        int toB = 0;
        for (int i = 0; i < 1000; i++) {
            if (lb.pick(Admission.CAPACITY, List.of(), later) == b) {
                toB++;
            }
        }
        assertEquals(0, toB, "no new request goes to the stalled backend while others answer");
    }

    @Test
    void aRequestHeldSomewhatLongerThanTheAverageIsNotAStall() {
        List.of(a, b, c).forEach(x -> answered(x, 2 * MS));
        LeastBusyLoadBalancer lb = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(5), 0);
        occupy(a, 1);
        occupy(b, 1);
        clock.advance(5, TimeUnit.MILLISECONDS);
        occupy(c, 1);
        long now = clock.nanoTime();

        // a and b have each held one request for 5 ms, 2.5 times their 2 ms average: with
        // exponential service times one request in twelve runs that long, and ranking a and b
        // below c for it would rank backends by how few requests they hold.
        assertEquals(lb.cost(c, now), lb.cost(a, now), 1e-6, "a is judged on its average");
        assertEquals(lb.cost(c, now), lb.cost(b, now), 1e-6, "b is judged on its average");
    }

    @Test
    void aPauseEveryBusyBackendSharesDoesNotSendTheNextRequestsToTheIdleOne() {
        List.of(a, b, c).forEach(x -> answered(x, 2 * MS));
        // c fails a third of its requests fast: its error term makes it costlier than an equal peer.
        for (int i = 0; i < 30; i++) {
            assertTrue(c.tryAcquire());
            c.state().onRequestEnd(MS / 10, i % 3 == 0 ? Outcome.SERVER_ERROR : Outcome.SUCCESS, clock.nanoTime());
        }
        LeastBusyLoadBalancer lb = new LeastBusyLoadBalancer(List.of(a, b, c), clock, new SplittableRandom(5), 0);
        occupy(a, 1);
        occupy(b, 1);
        long before = clock.nanoTime();
        double costA = lb.cost(a, before);
        double costC = lb.cost(c, before);

        // Nothing answers for 40 ms, 20 times the average: the balancer (or the machine) paused.
        // That is nobody's fault: the idle, failing c is not suddenly the cheapest by far.
        clock.advance(40, TimeUnit.MILLISECONDS);
        long now = clock.nanoTime();
        assertEquals(costA, lb.cost(a, now), costA * 0.01, "a as before the pause");
        assertEquals(costA, lb.cost(b, now), costA * 0.01, "b as before the pause");
        assertEquals(costC, lb.cost(c, now), costC * 0.01, "c as before the pause");

        // One of them goes on answering: the other's stall is its own now.
        answered(a, 2 * MS);
        assertTrue(lb.cost(b, now) > 10 * lb.cost(a, now), "b stalled while a answered: " + lb.cost(b, now));
    }
}
