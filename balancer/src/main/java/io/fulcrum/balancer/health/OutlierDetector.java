package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.BackendSnapshot;
import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.balancing.OutcomeListener;
import io.fulcrum.balancer.config.OutlierConfig;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passive outlier detection (Envoy's consecutive-5xx detector): a backend whose last
 * {@code consecutive-failures} requests all failed (5xx, connect failure, reset or timeout; see
 * {@link Outcome#isFailure()}) is ejected for {@code base-ejection} × the number of times it has
 * been ejected, at most {@code max-ejection}. When its time is up it returns (through slow start);
 * if it keeps failing it goes out again, for longer. A backend that stays in for longer than
 * {@code max-ejection} after an ejection is forgiven: its next ejection is short again.
 *
 * <p>A backend that fails only part of its requests is not ejected for a run its failure rate
 * explains: least-busy already lowers its share through its cost's error term, and ejecting it
 * would move all its load onto its peers although it serves most requests well. While its recent
 * failure rate r before the run (over about its last 50 requests) is below {@code failure-rate}, the run needed
 * is the longer of {@code consecutive-failures} and the run whose chance at rate r is below one in
 * {@value #IMPROBABLE_RUN_INVERSE} (r^run &lt; 10^-5: 10 in a row at r = 0.3, 17 at r = 0.5). A
 * backend that turns bad at once has a low rate when the run begins and is ejected after
 * {@code consecutive-failures}; one failing nearly everything (r at least {@code failure-rate}) as well.
 *
 * <p>Never more than {@code max-ejected-percent} of the pool is ejected at once: ejecting every
 * backend would only move the failures into panic mode. With a small pool and a low percentage
 * that may mean no ejection at all, which is what the operator asked for.
 *
 * <p>A backend that comes back up by active health checks after being down is un-ejected at once:
 * it proved it recovered (Envoy's {@code successful_active_health_check_uneject_host}, limited here
 * to a down-to-up flip so that a backend with a healthy health endpoint and a failing application
 * is not let back in by every probe).
 *
 * <p>Hold-down: a connect failure (refused, or no connection within {@code timeouts.connect}) holds
 * the backend out of selection at once for {@code outlier.hold-down}, doubling with each further
 * connect failure in a row up to {@code outlier.max-hold-down}. Unlike ejection it needs no run of
 * failures and is not limited by {@code max-ejected-percent}: a backend that refuses connections
 * costs a retry nothing but time, and the next request should not spend it there. It ends when its
 * time is up, when a request connects, or when health checks bring the backend up.
 *
 * <p>Threading: {@link #onOutcome} runs on the event loops, costs an atomic increment and never
 * blocks; reaching the threshold hands the decision to the single control thread with
 * {@code execute()}. Ejection, un-ejection and the snapshot rebuild happen only there, as do the
 * per-backend multipliers.
 */
public final class OutlierDetector implements OutcomeListener {
    private static final Logger log = LoggerFactory.getLogger(OutlierDetector.class);
    /** A run of failures whose chance at the backend's failure rate is below 1 / this ejects it. */
    static final long IMPROBABLE_RUN_INVERSE = 100_000;

    private final BackendRegistry registry;
    private final ScheduledExecutorService control;
    private final NanoClock clock;
    private final int threshold;
    private final long baseNanos;
    private final long maxNanos;
    private final int maxEjectedPercent;
    private final long holdDownNanos;
    private final long maxHoldDownNanos;
    private final double failureRate;
    private final LongAdder holdDowns = new LongAdder();
    /** Backends with an ejection decision queued on the control thread; one task per backend at most. */
    private final Set<BackendState> pending = ConcurrentHashMap.newKeySet();
    /** Per backend: the ejection multiplier and when it last returned. Control thread only. */
    private final Map<BackendState, History> history = new IdentityHashMap<>();
    private final LongAdder refused = new LongAdder();

    public OutlierDetector(BackendRegistry registry, OutlierConfig config, ScheduledExecutorService control,
            NanoClock clock) {
        this.registry = requireNonNull(registry, "registry");
        this.control = requireNonNull(control, "control");
        this.clock = requireNonNull(clock, "clock");
        requireNonNull(config, "config");
        this.threshold = config.consecutiveFailures();
        this.baseNanos = config.baseEjection().toNanos();
        this.maxNanos = config.maxEjection().toNanos();
        this.maxEjectedPercent = config.maxEjectedPercent();
        this.holdDownNanos = config.holdDown().toNanos();
        this.maxHoldDownNanos = config.maxHoldDown().toNanos();
        this.failureRate = config.failureRate();
    }

    /** Hold-downs started by connect failures since start-up. */
    public long holdDowns() {
        return holdDowns.sum();
    }

    /**
     * Event loop: counts the outcome; never blocks. A connect failure also holds the backend down
     * at once (see {@link BackendState#holdDown}); any outcome that proves a connection could be
     * made ends the hold-down.
     */
    @Override
    public void onOutcome(Backend backend, Outcome outcome) {
        if (outcome == Outcome.CANCELLED) {
            // The client left; that says nothing about the backend.
            return;
        }
        BackendState state = backend.state();
        if (outcome == Outcome.CONNECT_FAILURE) {
            if (holdDownNanos > 0) {
                long length = state.holdDown(clock.nanoTime(), holdDownNanos, maxHoldDownNanos);
                holdDowns.increment();
                log.debug("backend {} held down for {} ms after a connect failure", backend,
                        TimeUnit.NANOSECONDS.toMillis(length));
            }
        } else {
            state.clearHoldDown();
        }
        if (!outcome.isFailure()) {
            state.resetConsecutiveFailures();
            return;
        }
        int failures = state.incrementConsecutiveFailures();
        if (failures >= runNeeded(state) && !state.ejected() && pending.add(state)) {
            try {
                control.execute(() -> {
                    pending.remove(state);
                    considerEjecting(state);
                });
            } catch (RejectedExecutionException e) {
                pending.remove(state);
            }
        }
    }

    /** Ejection attempts refused because {@code max-ejected-percent} of the pool was out already. */
    public long refusedEjections() {
        return refused.sum();
    }

    /** Control thread: ejects the backend if it still qualifies and the pool can spare it. */
    void considerEjecting(BackendState state) {
        if (state.ejected() || state.consecutiveFailures() < runNeeded(state)) {
            return;
        }
        BackendSnapshot snapshot = registry.current();
        Backend backend = null;
        int ejected = 0;
        for (Backend b : snapshot.backends()) {
            if (b.state() == state) {
                backend = b;
            }
            if (b.state().ejected()) {
                ejected++;
            }
        }
        if (backend == null) {
            return; // removed by a reload meanwhile
        }
        int total = snapshot.backends().size();
        if ((long) (ejected + 1) * 100 > (long) maxEjectedPercent * total) {
            refused.increment();
            log.debug("not ejecting {}: {} of {} backends are ejected already (max-ejected-percent {})",
                    backend, ejected, total, maxEjectedPercent);
            return;
        }
        long now = clock.nanoTime();
        int failures = state.consecutiveFailures();
        History h = history.computeIfAbsent(state, s -> new History());
        if (h.returned && now - h.returnedAtNanos > maxNanos) {
            h.multiplier = 0; // well-behaved for a long while: start over
        }
        h.multiplier++;
        long length = ejectionNanos(h.multiplier);
        state.eject(now + length);
        state.resetConsecutiveFailures();
        registry.refresh();
        log.info("backend {} ejected for {} ms after {} failures in a row (ejection #{})", backend,
                TimeUnit.NANOSECONDS.toMillis(length), failures, state.ejections());
        try {
            control.schedule(this::expireEjections, length, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // Shutting down.
        }
    }

    /** Failures in a row that eject {@code state} now; see the class comment. */
    int runNeeded(BackendState state) {
        return runNeeded(state.errorRateBeforeRun(clock.nanoTime()));
    }

    /** Failures in a row that eject a backend whose recent failure rate is {@code rate}. */
    int runNeeded(double rate) {
        if (rate >= failureRate || rate <= 0) {
            return threshold;
        }
        double improbable = Math.log(1.0 / IMPROBABLE_RUN_INVERSE) / Math.log(rate);
        return (int) Math.max(threshold, Math.min(Integer.MAX_VALUE, Math.ceil(improbable)));
    }

    /** base × multiplier, at most max; saturating so a long-lived flapper cannot overflow. */
    long ejectionNanos(int multiplier) {
        if (baseNanos == 0) {
            return 0;
        }
        return multiplier > maxNanos / baseNanos ? maxNanos : Math.min(maxNanos, baseNanos * multiplier);
    }

    /** Control thread: returns every backend whose ejection time is up. */
    void expireEjections() {
        long now = clock.nanoTime();
        boolean changed = false;
        Set<BackendState> present = new HashSet<>();
        for (Backend b : registry.current().backends()) {
            BackendState s = b.state();
            present.add(s);
            if (s.ejected() && now - s.ejectedUntilNanos() >= 0) {
                unEject(b, now, "ejection time is up");
                changed = true;
            }
        }
        history.keySet().retainAll(present);
        if (changed) {
            registry.refresh();
        }
    }

    /**
     * Control thread: a health flip to UP ends an ejection early. Wire it to
     * {@link HealthTracker#subscribe}.
     */
    public void onHealthTransition(HealthTransition transition) {
        if (!transition.healthy()) {
            return;
        }
        Backend b = registry.current().byId(transition.backendId());
        if (b != null) {
            // Probes connect again: whatever held it down is over.
            b.state().clearHoldDown();
        }
        if (b != null && b.state().ejected()) {
            unEject(b, clock.nanoTime(), "health checks pass again");
            registry.refresh();
        }
    }

    private void unEject(Backend b, long now, String why) {
        BackendState s = b.state();
        s.resetConsecutiveFailures();
        s.unEject();
        History h = history.computeIfAbsent(s, k -> new History());
        h.returned = true;
        h.returnedAtNanos = now;
        log.info("backend {} back from ejection: {}", b, why);
    }

    /** Control thread only. */
    private static final class History {
        int multiplier;
        boolean returned;
        long returnedAtNanos;
    }
}
