package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.BackendSnapshot;
import io.fulcrum.balancer.config.HealthConfig;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the active health checks: every backend of the current snapshot is probed every
 * {@code interval} plus up to 10% jitter, so that probes of many backends (and of several balancers)
 * do not align (Envoy's {@code interval_jitter}). Each backend has at most one probe in flight; the
 * next one is scheduled when the previous answered or timed out.
 *
 * <p>Results go through the {@link HealthTracker}; a flip rebuilds the snapshot with
 * {@link BackendRegistry#refresh()}. A reported load figure is stored on the backend's state at
 * once, whatever the thresholds say, so the least-busy cost sees it on the next selection.
 *
 * <p>The scheduler follows the registry: backends added by a reload get probed, removed ones stop.
 *
 * <p>Threading: all state is confined to the single control thread of {@code control}; probe I/O
 * runs on the checker's own event loop and hands its result back with {@code execute()}.
 * {@link #firstRoundComplete()} is thread-safe. The random source is used on the control thread
 * only and need not be thread-safe.
 */
public final class HealthCheckScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthCheckScheduler.class);
    /** Jitter added to each interval, as a share of it. */
    static final double JITTER = 0.1;
    /** However long the interval, a new backend is first checked within this. */
    private static final long MAX_FIRST_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** A reported load counts for this many intervals (plus a probe timeout) unless reported again. */
    static final int LOAD_VALID_ROUNDS = 3;

    private final BackendRegistry registry;
    private final HealthChecker checker;
    private final HealthTracker tracker;
    private final ScheduledExecutorService control;
    private final RandomGenerator random;
    private final long intervalNanos;
    private final long timeoutNanos;
    private final Map<String, Probe> probes = new HashMap<>();
    /** Backends of the first snapshot whose first check has not answered yet; control thread only. */
    private Set<String> awaitingFirst;
    private final boolean enabled;
    private volatile boolean firstRoundComplete;
    private volatile boolean closed;

    public HealthCheckScheduler(BackendRegistry registry, HealthChecker checker, HealthTracker tracker,
            HealthConfig config, ScheduledExecutorService control, RandomGenerator random) {
        this.registry = requireNonNull(registry, "registry");
        this.checker = requireNonNull(checker, "checker");
        this.tracker = requireNonNull(tracker, "tracker");
        this.control = requireNonNull(control, "control");
        this.random = requireNonNull(random, "random");
        this.intervalNanos = requireNonNull(config, "config").interval().toNanos();
        this.timeoutNanos = config.timeout().toNanos();
        this.enabled = config.enabled();
    }

    /** Starts probing the current pool and following the registry's changes. Any thread. */
    public void start() {
        if (!enabled) {
            // health.enabled: false — backends stay healthy; passive ejection still applies.
            firstRoundComplete = true;
            log.info("active health checks are off");
            return;
        }
        registry.subscribe(snapshot -> handOff(() -> sync(snapshot)));
        handOff(() -> sync(registry.current()));
    }

    /**
     * Whether every backend of the pool at start has answered (or failed) its first check, so that
     * health flags mean something. The readiness probe waits for it (Armeria's {@code whenReady()}).
     */
    public boolean firstRoundComplete() {
        return firstRoundComplete;
    }

    /** Stops scheduling probes; probes in flight are ignored when they answer. Any thread. */
    @Override
    public void close() {
        closed = true;
        handOff(() -> {
            probes.values().forEach(Probe::cancel);
            probes.clear();
        });
    }

    private void handOff(Runnable task) {
        try {
            control.execute(task);
        } catch (RejectedExecutionException e) {
            // The control thread is shutting down with the balancer; nothing left to check.
        }
    }

    /** Matches the probes to a snapshot. Control thread. */
    private void sync(BackendSnapshot snapshot) {
        if (closed) {
            return;
        }
        if (awaitingFirst == null) {
            awaitingFirst = new HashSet<>();
            snapshot.backends().forEach(b -> awaitingFirst.add(b.id()));
            markFirstRoundIfDone();
        }
        Set<String> present = new HashSet<>();
        for (Backend b : snapshot.backends()) {
            present.add(b.id());
            Probe probe = probes.get(b.id());
            if (probe == null) {
                probe = new Probe(b);
                probes.put(b.id(), probe);
                // The first check soon (readiness waits for it), still jittered so a large pool does
                // not probe in one burst.
                probe.schedule(Math.min(jitter(), MAX_FIRST_DELAY_NANOS));
            } else {
                // A reload may keep the id but change the URL; probe the current one.
                probe.backend = b;
            }
        }
        for (Iterator<Map.Entry<String, Probe>> it = probes.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Probe> e = it.next();
            if (!present.contains(e.getKey())) {
                e.getValue().cancel();
                it.remove();
                tracker.forget(e.getKey());
                awaitingFirst.remove(e.getKey());
            }
        }
        markFirstRoundIfDone();
    }

    private long jitter() {
        long bound = (long) (intervalNanos * JITTER);
        return bound <= 0 ? 0 : random.nextLong(bound + 1);
    }

    private void markFirstRoundIfDone() {
        if (!firstRoundComplete && awaitingFirst.isEmpty()) {
            firstRoundComplete = true;
            log.info("first health check round complete");
        }
    }

    /** One backend's probe loop. Control thread. */
    private final class Probe implements Runnable {
        Backend backend;
        Future<?> next;
        boolean cancelled;

        Probe(Backend backend) {
            this.backend = backend;
        }

        void schedule(long delayNanos) {
            if (cancelled || closed) {
                return;
            }
            try {
                next = control.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                cancelled = true;
            }
        }

        void cancel() {
            cancelled = true;
            if (next != null) {
                next.cancel(false);
            }
        }

        @Override
        public void run() {
            if (cancelled || closed) {
                return;
            }
            Backend target = backend;
            CompletableFuture<HealthCheckResult> result;
            try {
                result = checker.check(target);
            } catch (RuntimeException e) {
                result = CompletableFuture.completedFuture(HealthCheckResult.failed("probe failed: " + e));
            }
            result.whenComplete((r, e) -> handOff(() -> answered(target,
                    r != null ? r : HealthCheckResult.failed("probe failed: " + e))));
        }

        private void answered(Backend target, HealthCheckResult result) {
            if (cancelled || closed) {
                return;
            }
            if (result.hasLoad()) {
                // Valid for a few rounds: a backend that stops reporting is not judged on an old figure.
                target.state().setReportedLoad(result.load(), System.nanoTime() + LOAD_VALID_ROUNDS * intervalNanos
                        + timeoutNanos);
            }
            if (tracker.observe(target, result) != null) {
                registry.refresh();
            }
            if (awaitingFirst.remove(target.id())) {
                markFirstRoundIfDone();
            }
            schedule(intervalNanos + jitter());
        }
    }
}
