package io.fulcrum.balancer.balancing;

import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;

/**
 * A discrete-event stand-in for real traffic, on a {@link FakeClock}: requests arrive at a fixed
 * gap, each selected backend is acquired and answers after its own fixed service time, and answers
 * are reported through {@link BackendState#onRequestEnd(long, Outcome, long)}. No threads, no
 * sleeps; lets least-busy tests see in-flight counts and latency estimates evolve as they would
 * under load. Not thread-safe.
 */
final class LoadSimulation {
    private record Pending(long endNanos, Backend backend, long startNanos, Outcome outcome) {
    }

    private final FakeClock clock;
    private final LoadBalancer lb;
    private final Map<String, Long> serviceNanos = new HashMap<>();
    private final PriorityQueue<Pending> pending =
            new PriorityQueue<>((a, b) -> Long.compare(a.endNanos(), b.endNanos()));
    private final Map<String, Integer> picks = new HashMap<>();
    /** Backend id → how many of each ten requests it answers at once with a 5xx. */
    private final Map<String, Integer> failuresInTen = new HashMap<>();
    private int rejected;

    LoadSimulation(FakeClock clock, LoadBalancer lb) {
        this.clock = clock;
        this.lb = lb;
    }

    LoadSimulation serviceTime(String backendId, long amount, TimeUnit unit) {
        serviceNanos.put(backendId, unit.toNanos(amount));
        return this;
    }

    /** {@code backendId} answers {@code inTen} of each ten requests it gets with an immediate 5xx. */
    LoadSimulation failFast(String backendId, int inTen) {
        failuresInTen.put(backendId, inTen);
        return this;
    }

    /** Sends {@code requests} requests, one every {@code gapMicros}, and drains the rest. */
    LoadSimulation run(int requests, long gapMicros) {
        for (int i = 0; i < requests; i++) {
            clock.advance(gapMicros, TimeUnit.MICROSECONDS);
            completeUntil(clock.nanoTime());
            Backend b = lb.select(RequestInfo.DEFAULT);
            if (b == null || !b.tryAcquire()) {
                rejected++;
                continue;
            }
            int n = picks.merge(b.id(), 1, Integer::sum);
            long now = clock.nanoTime();
            if (n % 10 < failuresInTen.getOrDefault(b.id(), 0)) {
                // Fails fast: a tenth of a millisecond, a 5xx.
                pending.add(new Pending(now + 100_000, b, now, Outcome.SERVER_ERROR));
            } else {
                pending.add(new Pending(now + serviceNanos.getOrDefault(b.id(), 1_000_000L), b, now, Outcome.SUCCESS));
            }
        }
        completeUntil(Long.MAX_VALUE);
        return this;
    }

    int picks(String id) {
        return picks.getOrDefault(id, 0);
    }

    int rejected() {
        return rejected;
    }

    private void completeUntil(long until) {
        while (!pending.isEmpty() && pending.peek().endNanos() <= until) {
            Pending p = pending.poll();
            p.backend().state().onRequestEnd(p.endNanos() - p.startNanos(), p.outcome(), p.endNanos());
        }
    }
}
