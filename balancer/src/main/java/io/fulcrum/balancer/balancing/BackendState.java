package io.fulcrum.balancer.balancing;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live state of one backend: counters updated lock-free by the event loops, flags set by health
 * checking and the admin API. One instance lives as long as the backend's id stays in the
 * configuration, across snapshot swaps.
 *
 * <p>Latency is tracked as a <em>peak EWMA</em> (the estimator of Finagle's and Linkerd's
 * least-loaded balancers): a sample above the current estimate replaces it at once, so a backend
 * that turns slow is avoided on its first slow answer, while lower samples pull the estimate down
 * with time constant {@link #DEFAULT_DECAY_NANOS}. Reads decay the estimate toward zero for the time
 * since the last latency sample, so a backend that was slow and then got no traffic (it was down,
 * or too costly to be picked) is tried again and judged on what it does now. Each estimator keeps
 * its own timestamp: failures that carry no latency (connect failures) never hold the latency
 * estimate at its old value.
 *
 * <p>Hold-down: a refused or timed-out connect makes the backend unroutable at once for a short
 * time that doubles with each further connect failure in a row (nginx's {@code max_fails} /
 * {@code fail_timeout}, HAProxy's {@code observe layer4}); the first request that connects ends it.
 * It is read by selection against the clock, so it needs no snapshot rebuild and is independent of
 * the outlier detector's ejection cap.
 *
 * <p>Reported load: the figure from the backend's health response is valid until a deadline given
 * with it; a backend that stops reporting is treated as reporting nothing rather than its last
 * figure forever.
 *
 * <p>Slow start: when a backend becomes routable again (health up, un-ejected, undrained, or added
 * by a reload) its recovery time is recorded, and {@link #slowStartFactor} ramps its effective
 * weight from {@link #MIN_SLOW_START_FACTOR} to 1 over the configured window.
 *
 * <p>Thread-safe. Reads are plain volatile or atomic reads. The hold-down is a {@link ConnectHoldDown}
 * (one value replaced by CAS); {@link #lastChange()}, written after it for people to read, may show
 * the loser of a race between a failure and a success. The two estimators (latency,
 * error rate) are each updated with a CAS loop; each one's timestamp is written separately, so two
 * samples finishing at the same instant on different loops may decay by a slightly wrong interval.
 * That error is bounded by the time between the two samples and harmless for a load heuristic.
 */
public final class BackendState {
    /** Time constant of the latency and error-rate decay: 10 s, as Finagle and Linkerd use. */
    public static final long DEFAULT_DECAY_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Share of its weight a backend gets at the very start of slow start (Envoy's default 10%). */
    public static final double MIN_SLOW_START_FACTOR = 0.1;

    private static final long NOT_RECOVERING = Long.MIN_VALUE;

    private final NanoClock clock;
    private final double decayNanos;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    /** {@link Double} bits of the latency estimate as of {@link #latencyStampNanos}. */
    private final AtomicLong latencyBits = new AtomicLong(Double.doubleToRawLongBits(0));
    /** {@link Double} bits of the failure-rate estimate as of {@link #errorStampNanos}. */
    private final AtomicLong errorRateBits = new AtomicLong(Double.doubleToRawLongBits(0));
    /**
     * When the backend last made progress while busy: its in-flight count rose from zero, or it
     * answered a request. While requests are in flight, the time since then is a lower bound on
     * how long the oldest of them has waited.
     */
    private volatile long progressNanos;
    /** When the latency estimate was last sampled. */
    private volatile long latencyStampNanos;
    /** When the error-rate estimate was last sampled. */
    private volatile long errorStampNanos;
    private final ConnectHoldDown holdDown = new ConnectHoldDown();
    /** The reported load is ignored from this time on. */
    private volatile long reportedLoadUntilNanos;
    private volatile long recoveredAtNanos = NOT_RECOVERING;
    private volatile boolean healthy = true;
    private volatile boolean draining;
    private volatile long ejectedUntilNanos;
    private volatile boolean ejected;
    private volatile double reportedLoad;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicInteger ejections = new AtomicInteger();
    /** The last change of the backend's routability flags, for people (status page, /backends). */
    private volatile StateChange lastChange = new StateChange("up", "configured", System.currentTimeMillis());

    /**
     * A change of state as an operator reads it.
     *
     * @param state {@code up}, {@code down}, {@code ejected}, {@code held-down} or {@code draining}
     * @param reason why, in a few words
     * @param atEpochMillis when, on the wall clock
     */
    public record StateChange(String state, String reason, long atEpochMillis) {
    }

    /** State on the system clock. */
    public BackendState() {
        this(NanoClock.SYSTEM);
    }

    /** State on the given clock, with the default decay. */
    public BackendState(NanoClock clock) {
        this(clock, DEFAULT_DECAY_NANOS);
    }

    BackendState(NanoClock clock, long decayNanos) {
        this.clock = requireNonNull(clock, "clock");
        if (decayNanos <= 0) {
            throw new IllegalArgumentException("decayNanos: " + decayNanos + " (expected: > 0)");
        }
        this.decayNanos = decayNanos;
        long now = clock.nanoTime();
        this.latencyStampNanos = now;
        this.errorStampNanos = now;
    }

    boolean tryAcquire(int maxInFlight) {
        while (true) {
            int current = inFlight.get();
            if (current >= maxInFlight) {
                return false;
            }
            if (inFlight.compareAndSet(current, current + 1)) {
                if (current == 0) {
                    progressNanos = clock.nanoTime();
                }
                return true;
            }
        }
    }

    /**
     * Ends a request started by a successful {@link Backend#tryAcquire()}, at the clock's current
     * time. Called on the event loop that ran the request.
     */
    public void onRequestEnd(long latencyNanos, Outcome outcome) {
        onRequestEnd(latencyNanos, outcome, clock.nanoTime());
    }

    /**
     * Ends a request started by a successful {@link Backend#tryAcquire()}.
     *
     * <p>The latency feeds the peak EWMA unless the outcome says nothing about response time: a
     * connect failure never reached the backend's application, and a cancelled request only gives a
     * lower bound. Fast-failing backends are the outlier detector's business, not the estimator's.
     *
     * @param nowNanos the {@link NanoClock} time at which the request ended
     */
    public void onRequestEnd(long latencyNanos, Outcome outcome, long nowNanos) {
        if (outcome == Outcome.SUCCESS || outcome == Outcome.SERVER_ERROR) {
            // An answer is progress; a timeout, reset or cancellation is not.
            progressNanos = nowNanos;
        }
        inFlight.decrementAndGet();
        requests.incrementAndGet();
        boolean failure = outcome.isFailure();
        if (failure) {
            errors.incrementAndGet();
        }
        if (outcome != Outcome.CONNECT_FAILURE && outcome != Outcome.CANCELLED) {
            double w = decayWeight(nowNanos, latencyStampNanos);
            double sample = Math.max(0, latencyNanos);
            while (true) {
                long bits = latencyBits.get();
                double decayed = Double.longBitsToDouble(bits) * w;
                // Peak-sensitive: a sample above the decayed estimate wins at once; a lower one is
                // averaged in by elapsed time.
                double next = sample > decayed ? sample : decayed + sample * (1 - w);
                if (latencyBits.compareAndSet(bits, Double.doubleToRawLongBits(next))) {
                    break;
                }
            }
            latencyStampNanos = later(latencyStampNanos, nowNanos);
        }
        if (outcome != Outcome.CANCELLED) {
            double w = decayWeight(nowNanos, errorStampNanos);
            double x = failure ? 1 : 0;
            while (true) {
                long bits = errorRateBits.get();
                double next = Double.longBitsToDouble(bits) * w + x * (1 - w);
                if (errorRateBits.compareAndSet(bits, Double.doubleToRawLongBits(next))) {
                    break;
                }
            }
            errorStampNanos = later(errorStampNanos, nowNanos);
        }
    }

    private static long later(long a, long b) {
        return b - a > 0 ? b : a;
    }

    /** exp(-elapsed / decay): how much of an estimate stamped at {@code stamp} still counts at {@code now}. */
    private double decayWeight(long nowNanos, long stampNanos) {
        long elapsed = nowNanos - stampNanos;
        return elapsed <= 0 ? 1 : Math.exp(-elapsed / decayNanos);
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** Requests ended so far, whatever their outcome. */
    public long requests() {
        return requests.get();
    }

    /** Requests ended with a failure outcome so far ({@link Outcome#isFailure()}). */
    public long errors() {
        return errors.get();
    }

    /** The latency estimate selection uses now: decayed to the clock's current time; 0 before any sample. */
    public double latencyEwmaNanos() {
        return latencyEwmaNanos(clock.nanoTime());
    }

    /**
     * How long the backend has been busy without answering any request, as of {@code nowNanos}; 0
     * while nothing is in flight. A backend that stopped answering (hung, paused) shows it growing
     * long before its first request times out, while its latency average still shows the past.
     */
    public long stalledNanos(long nowNanos) {
        if (inFlight.get() == 0) {
            return 0;
        }
        long stalled = nowNanos - progressNanos;
        return stalled > 0 ? stalled : 0;
    }

    /** The latency estimate decayed to {@code nowNanos}; 0 before any sample. */
    public double latencyEwmaNanos(long nowNanos) {
        return Double.longBitsToDouble(latencyBits.get()) * decayWeight(nowNanos, latencyStampNanos);
    }

    /**
     * The recent share of failed requests in [0, 1], a time-weighted average over roughly the last
     * decay period, decayed to {@code nowNanos}. Cancelled requests do not count either way.
     */
    public double recentErrorRate(long nowNanos) {
        return Double.longBitsToDouble(errorRateBits.get()) * decayWeight(nowNanos, errorStampNanos);
    }

    public boolean healthy() {
        return healthy;
    }

    /** Sets the health flag; going from down to up starts slow start. Control thread only. */
    public void setHealthy(boolean healthy) {
        setFlags(healthy, draining, healthy ? "up" : "down", healthy ? "health checks pass" : "health checks fail");
    }

    public boolean draining() {
        return draining;
    }

    /** Sets the drain flag; leaving drain starts slow start. Control thread only. */
    public void setDraining(boolean draining) {
        setFlags(healthy, draining, draining ? "draining" : "up",
                draining ? "drained through the admin API" : "enabled through the admin API");
    }

    /**
     * Sets the health and drain flags, both written by the control thread only: a flag that moves
     * makes {@code state} and {@code reason} the last change, and becoming routable starts slow start.
     */
    private void setFlags(boolean healthy, boolean draining, String state, String reason) {
        boolean wasRoutable = routable();
        if (this.healthy != healthy || this.draining != draining) {
            changed(state, reason);
        }
        this.healthy = healthy;
        this.draining = draining;
        startSlowStartIfBecameRoutable(wasRoutable);
    }

    public boolean ejected() {
        return ejected;
    }

    public long ejectedUntilNanos() {
        return ejectedUntilNanos;
    }

    /** Ejects the backend until the given {@link NanoClock} time; the outlier detector un-ejects. */
    public void eject(long untilNanos) {
        this.ejectedUntilNanos = untilNanos;
        this.ejected = true;
        int n = ejections.incrementAndGet();
        changed("ejected", "outlier detection: failures in a row (ejection " + n + ")");
    }

    /** How many times this backend was ejected so far. */
    public int ejections() {
        return ejections.get();
    }

    /**
     * Failed requests in a row (outcomes that {@link Outcome#isFailure() count}), for outlier
     * detection. Thread-safe.
     */
    public int consecutiveFailures() {
        return consecutiveFailures.get();
    }

    /** Counts one more failure in a row and returns the new count. Thread-safe, lock-free. */
    public int incrementConsecutiveFailures() {
        return consecutiveFailures.incrementAndGet();
    }

    /** A success ends the run of failures. Skips the write when already 0, to spare the cache line. */
    public void resetConsecutiveFailures() {
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
        }
    }

    /** Ends an ejection; the backend then ramps up through slow start. Control thread only. */
    public void unEject() {
        boolean wasRoutable = routable();
        if (ejected) {
            changed(healthy ? "up" : "down", "ejection ended");
        }
        this.ejected = false;
        startSlowStartIfBecameRoutable(wasRoutable);
    }

    /** The load the backend reported that selection uses now, in [0, 1]; 0 once the report expired. */
    public double reportedLoad() {
        return reportedLoad(clock.nanoTime());
    }

    /** The reported load as of {@code nowNanos}: 0 when none is valid then. */
    public double reportedLoad(long nowNanos) {
        double load = reportedLoad;
        return load == 0 || nowNanos - reportedLoadUntilNanos >= 0 ? 0 : load;
    }

    /**
     * Records the backend's own load figure, valid until {@code validUntilNanos} (the health checks
     * give it a few of their intervals); values outside [0, 1] (or NaN) are clamped.
     */
    public void setReportedLoad(double load, long validUntilNanos) {
        this.reportedLoadUntilNanos = validUntilNanos;
        this.reportedLoad = load > 1 ? 1 : load > 0 ? load : 0;
    }

    /** Whether a connect failure holds the backend down at {@code nowNanos}: one volatile read. */
    public boolean heldDown(long nowNanos) {
        return holdDown.heldAt(nowNanos);
    }

    /** The end of the current hold-down, meaningful while {@link #heldDown(long)}. */
    public long holdDownUntilNanos() {
        return holdDown.untilNanos();
    }

    /**
     * Counts a connect failure and holds the backend down ({@link ConnectHoldDown}); returns the
     * length chosen. Event loops; thread-safe and lock-free.
     */
    public long holdDown(long nowNanos, long baseNanos, long maxNanos) {
        ConnectHoldDown.Failure f = holdDown.fail(nowNanos, baseNanos, maxNanos);
        if (f.started()) {
            changed("held-down", "connect failed (" + f.inARow() + " in a row); held down "
                    + f.lengthNanos() / 1_000_000 + "ms");
        }
        return f.lengthNanos();
    }

    /** A connection succeeded (or health checks pass again): no hold-down, and the doubling starts over. */
    public void clearHoldDown() {
        if (holdDown.clear() && "held-down".equals(lastChange.state())) {
            changed("up", "connected again after a hold-down");
        }
    }

    /** Hold-downs started since this state was created (a failure while held down extends one). */
    public long holdDowns() {
        return holdDown.started();
    }

    /** The last change of state, its reason and time. */
    public StateChange lastChange() {
        return lastChange;
    }

    private void changed(String state, String reason) {
        lastChange = new StateChange(state, reason, System.currentTimeMillis());
    }

    /** Connect failures in a row; reset by {@link #clearHoldDown()}. */
    public int connectFailures() {
        return holdDown.failures();
    }

    /** Healthy, not ejected and not draining. */
    public boolean routable() {
        return healthy && !ejected && !draining;
    }

    /**
     * Starts slow start now: the backend's effective weight ramps from
     * {@link #MIN_SLOW_START_FACTOR} to full over the routing {@code slow-start} window. The flag
     * setters call it when the backend becomes routable again; health code may call it directly
     * when it knows better (for example after a restart detected by the health response), and the
     * registry calls it for backends added by a reload. Thread-safe.
     */
    public void markRecovered(long nowNanos) {
        this.recoveredAtNanos = nowNanos == NOT_RECOVERING ? nowNanos + 1 : nowNanos;
    }

    /** The time of the last {@link #markRecovered}, or {@link Long#MIN_VALUE} when never marked. */
    public long recoveredAtNanos() {
        return recoveredAtNanos;
    }

    /**
     * The fraction of its weight the backend gets at {@code nowNanos}: 1 outside slow start, else
     * elapsed / window, at least {@link #MIN_SLOW_START_FACTOR}. Linear, like Envoy's slow start with
     * aggression 1.
     *
     * @param windowNanos the slow-start window; 0 or less disables slow start
     */
    public double slowStartFactor(long nowNanos, long windowNanos) {
        long since = recoveredAtNanos;
        if (windowNanos <= 0 || since == NOT_RECOVERING) {
            return 1;
        }
        long elapsed = nowNanos - since;
        if (elapsed >= windowNanos) {
            return 1;
        }
        return Math.max(MIN_SLOW_START_FACTOR, (double) elapsed / windowNanos);
    }

    private void startSlowStartIfBecameRoutable(boolean wasRoutable) {
        if (!wasRoutable && routable()) {
            markRecovered(clock.nanoTime());
        }
    }
}
