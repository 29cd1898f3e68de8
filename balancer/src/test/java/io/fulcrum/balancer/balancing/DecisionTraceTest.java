package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.NO_SLOW_START;
import static io.fulcrum.balancer.balancing.RoutingFixtures.backend;
import static io.fulcrum.balancer.balancing.RoutingFixtures.occupy;
import static io.fulcrum.balancer.balancing.RoutingFixtures.routing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.RoutingConfig.Policy;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/** What the region-aware balancer records of a selection, and what it counts. */
class DecisionTraceTest {
    private final FakeClock clock = new FakeClock();
    // max-in-flight 10, saturation 0.8: busy at 8 in flight.
    private final Backend us1 = backend("us-1", "us-east", 1, 10, clock);
    private final Backend eu1 = backend("eu-1", "eu-west", 1, 10, clock);
    private final List<Backend> all = List.of(us1, eu1);

    private LoadBalancer build() {
        return LoadBalancerFactory.create("us-east", routing(Policy.LEAST_BUSY, 0.8, List.of(), NO_SLOW_START), all,
                null, clock, new SplittableRandom(3));
    }

    /** A balancer over us-1 and eu-1 with every slot of both taken. */
    private LoadBalancer buildFull() {
        LoadBalancer lb = build();
        occupy(us1, 10);
        occupy(eu1, 10);
        return lb;
    }

    /**
     * Fills us-1 up to busy (8 of 10) and asserts that a request then spills over to eu-1,
     * recorded in {@code trace}, which is returned.
     */
    private DecisionTrace spillOver(LoadBalancer lb, DecisionTrace trace) {
        occupy(us1, 8);
        assertEquals(eu1, lb.select(RequestInfo.DEFAULT, trace));
        assertEquals(DecisionTrace.Pass.SPILLOVER, trace.pass());
        return trace;
    }

    private static long count(LoadBalancer lb, RoutingCounters.Kind kind, String from, String to) {
        LongAdder a = lb.counters().all().get(new RoutingCounters.Key(kind, from, to));
        return a == null ? -1 : a.sum();
    }

    @Test
    void aLocalChoiceSaysWhereTheRegionCameFrom() {
        LoadBalancer lb = build();
        DecisionTrace trace = DecisionTrace.compactTrace();
        assertEquals(us1, lb.select(RequestInfo.DEFAULT, trace));
        assertEquals(DecisionTrace.Pass.LOCAL, trace.pass());
        assertEquals("region=us-east(default) pass=local to=us-east backend=us-1", trace.compact());
        assertTrue(trace.candidates().isEmpty(), "compact traces list no candidates");

        DecisionTrace header = DecisionTrace.compactTrace();
        assertEquals(eu1, lb.select(new RequestInfo("eu-west", List.of()), header));
        assertEquals("region=eu-west(header) pass=local to=eu-west backend=eu-1", header.compact());
        assertEquals(0, count(lb, RoutingCounters.Kind.SPILLOVER, "us-east", "eu-west"));
    }

    @Test
    void theFullTraceShowsTheErrorTermAndTheWarmUpFactor() {
        long window = TimeUnit.SECONDS.toNanos(10);
        LoadBalancer lb = LoadBalancerFactory.create("us-east", routing(Policy.LEAST_BUSY, 0.8, List.of(),
                Duration.ofNanos(window)), all, null, clock, new SplittableRandom(3));
        for (int i = 0; i < 100; i++) {
            assertTrue(us1.tryAcquire());
            us1.state().onRequestEnd(2_000_000, i % 2 == 0 ? Outcome.SERVER_ERROR : Outcome.SUCCESS,
                    clock.nanoTime());
            assertTrue(eu1.tryAcquire());
            eu1.state().onRequestEnd(2_000_000, Outcome.SUCCESS, clock.nanoTime());
        }
        eu1.state().markRecovered(clock.nanoTime());
        clock.advance(2, TimeUnit.SECONDS);

        DecisionTrace trace = DecisionTrace.explainTrace();
        lb.select(RequestInfo.DEFAULT, trace);

        DecisionTrace.Candidate us = trace.candidates().get(0);
        DecisionTrace.Candidate eu = trace.candidates().get(1);
        assertTrue(us.errorRate() > 0.25 && us.errorRate() < 0.5, "half of us-1's last requests failed, faded for"
                + " 2 s since: " + us.errorRate());
        assertEquals(1 + 4 * us.errorRate(), us.errorFactor(), 1e-9, "error-weight 4");
        assertEquals(1, us.warmUp());
        assertEquals(0.2, eu.warmUp(), 1e-9, "eu-1 came back 2 s into a 10 s window and has not answered since");
        assertTrue(trace.detailed().contains(String.format(Locale.ROOT, "warm=1.00 err=%.2f ef=%.2f",
                us.errorRate(), us.errorFactor())), trace.detailed());
        assertTrue(trace.detailed().contains("warm=0.20 err=0.00 ef=1.00"), trace.detailed());
    }

    @Test
    void spillOverAndPanicAreRecordedAndCountedByRegion() {
        LoadBalancer lb = build();
        DecisionTrace spill = spillOver(lb, DecisionTrace.fullTrace());
        assertEquals(1, count(lb, RoutingCounters.Kind.SPILLOVER, "us-east", "eu-west"));
        assertEquals(2, spill.candidates().size());
        DecisionTrace.Candidate first = spill.candidates().get(0);
        assertEquals("us-1", first.id(), "the client's region first");
        assertEquals(8, first.inFlight());
        assertEquals("routable", first.state());
        assertTrue(spill.detailed().contains("us-1[us-east routable inflight=8/10"), spill.detailed());

        us1.state().setHealthy(false);
        eu1.state().setHealthy(false);
        LoadBalancer panicking = LoadBalancerFactory.create("us-east",
                routing(Policy.LEAST_BUSY, 0.8, List.of(), NO_SLOW_START), all, lb, clock, new SplittableRandom(3));
        DecisionTrace panic = DecisionTrace.compactTrace();
        Backend chosen = panicking.select(RequestInfo.DEFAULT, panic);
        assertEquals(DecisionTrace.Pass.PANIC, panic.pass());
        assertEquals(1, count(panicking, RoutingCounters.Kind.PANIC, "us-east", chosen.region()));
        assertEquals(1, panicking.panicSelections());
        assertEquals(1, count(panicking, RoutingCounters.Kind.SPILLOVER, "us-east", "eu-west"),
                "counts carry over a snapshot swap");
    }

    @Test
    void aHoldDownInTheClientsRegionIsShown() {
        LoadBalancer lb = build();
        us1.state().holdDown(clock.nanoTime(), 1_000_000_000L, 1_000_000_000L);
        DecisionTrace trace = DecisionTrace.compactTrace();
        assertEquals(eu1, lb.select(RequestInfo.DEFAULT, trace));
        assertEquals("region=us-east(default) pass=spillover to=eu-west backend=eu-1 held-down=1", trace.compact());
    }

    @Test
    void anExplainedSelectionCountsNothing() {
        LoadBalancer lb = build();
        spillOver(lb, DecisionTrace.explainTrace());
        assertEquals(0, count(lb, RoutingCounters.Kind.SPILLOVER, "us-east", "eu-west"));
    }

    @Test
    void whenNothingCanTakeTheRequestThePassIsNone() {
        LoadBalancer lb = buildFull();
        DecisionTrace trace = DecisionTrace.compactTrace();
        assertNull(lb.select(RequestInfo.DEFAULT, trace));
        assertEquals("region=us-east(default) pass=none", trace.compact());
    }

    @Test
    void aRetryShowsHowManyBackendsItAvoids() {
        LoadBalancer lb = build();
        DecisionTrace trace = DecisionTrace.compactTrace();
        assertEquals(eu1, lb.select(new RequestInfo(null, List.of(us1)), trace));
        assertEquals("region=us-east(default) pass=spillover to=eu-west backend=eu-1 avoided=1", trace.compact());
    }

    @Test
    void aRequestServedFromTheQueueShowsItsWait() {
        LoadBalancer lb = build();
        DecisionTrace trace = DecisionTrace.compactTrace();
        lb.select(RequestInfo.DEFAULT, trace);
        trace.queued(12_700_000, null);
        assertEquals("region=us-east(default) pass=local to=us-east backend=us-1 queued=12ms", trace.compact());
        assertTrue(trace.detailed().startsWith(trace.compact()), trace.detailed());
    }

    @Test
    void aQueueThatLetARequestGoSaysWhy() {
        LoadBalancer lb = buildFull();
        DecisionTrace timedOut = DecisionTrace.compactTrace();
        lb.select(RequestInfo.DEFAULT, timedOut);
        timedOut.queued(1_000_000_000, "timeout");
        assertEquals("region=us-east(default) pass=none queued=1000ms queue=timeout", timedOut.compact());

        DecisionTrace full = DecisionTrace.compactTrace();
        lb.select(RequestInfo.DEFAULT, full);
        full.queueFull();
        assertEquals("region=us-east(default) pass=none queue=full", full.compact());
        assertEquals(-1, full.queuedMillis());

        DecisionTrace behind = DecisionTrace.compactTrace();
        behind.queuedBehind(new RequestInfo("eu-west", List.of()), "us-east");
        behind.queued(3_000_000, "timeout");
        assertEquals("region=eu-west(header) pass=none queued=3ms queue=timeout", behind.compact());
        DecisionTrace local = DecisionTrace.compactTrace();
        local.queuedBehind(RequestInfo.DEFAULT, "us-east");
        local.queued(0, null);
        assertEquals("region=us-east(default) pass=none queued=0ms", local.compact());
    }
}
