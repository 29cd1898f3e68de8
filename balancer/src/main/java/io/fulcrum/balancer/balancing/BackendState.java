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
 * <p>Latency is tracked twice. The <em>peak EWMA</em> (Finagle's and Linkerd's estimator; shown by
 * {@code /backends}) takes a sample above the estimate at once and averages lower ones in with time
 * constant {@link #DEFAULT_DECAY_NANOS}. The plain average that least-busy weighs
 * ({@link #latencyMeanNanos}) follows about the last second. Reads fade both toward zero for the
 * time since the last sample, so a backend that was slow and then got no traffic is tried again.
 * Each estimator keeps its own timestamp: failures that carry no latency (connect failures) never
 * hold the latency estimate at its old value.
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
 * by a reload, or connecting again after a hold-down) its recovery time is recorded and its latency
 * estimate forgotten, and {@link #slowStartFactor} ramps its effective weight from
 * {@link #MIN_SLOW_START_FACTOR} to 1 over the configured window; least-busy lets it grow faster
 * when the latency it shows since is close to its peers' ({@code LeastBusyCost}).
 *
 * <p>Thread-safe. Reads are plain volatile or atomic reads. The hold-down is a {@link ConnectHoldDown}
 * (one value replaced by CAS); {@link #lastChange()}, written after it for people to read, may show
 * the loser of a race between a failure and a success. The two estimators (latency, error rate)
 * are {@link DecayingAverage}s, lock-free.
 */
public final class BackendState {
    /** Time constant of the latency and error-rate decay: 10 s, as Finagle and Linkerd use. */
    public static final long DEFAULT_DECAY_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Share of its weight a backend gets at the very start of slow start (Envoy's default 10%). */
    public static final double MIN_SLOW_START_FACTOR = 0.1;

    /** The plain latency average's window: follows a slowdown within a second, smooths single answers. */
    static final long MEAN_LATENCY_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The error rate is an average over about this many requests, fading with time when none come. */
    static final int ERROR_RATE_SAMPLES = 50;

    private static final long NOT_RECOVERING = Long.MIN_VALUE;

    private final NanoClock clock;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    /** Latency, peak-sensitive. */
    private final DecayingAverage latency;
    /** Latency, a plain average over about the last {@link #MEAN_LATENCY_WINDOW_NANOS}. */
    private final DecayingAverage latencyMean;
    /** The share of failed requests, over about the last {@link #ERROR_RATE_SAMPLES}. */
    private final DecayingAverage errorRate;
    /**
     * When the backend last made progress while busy: its in-flight count rose from zero, or it
     * answered a request. While requests are in flight, the time since then is a lower bound on
     * how long the oldest of them has waited.
     */
    private volatile long progressNanos;
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
        long now = clock.nanoTime();
        this.latency = DecayingAverage.peak(decayNanos, now);
        this.latencyMean = DecayingAverage.mean(MEAN_LATENCY_WINDOW_NANOS, decayNanos, now);
        this.errorRate = DecayingAverage.byCount(ERROR_RATE_SAMPLES, decayNanos, now);
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
     * lower bound. A failed request (5xx, reset, timeout) may raise the estimate but never lowers
     * it: a backend that fails fast would otherwise look fast. Its failures count in the error rate,
     * which least-busy weighs in its cost.
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
            // Peak-sensitive: a sample above the decayed estimate wins at once; a lower one is
            // averaged in by elapsed time. A failure may only raise it: a backend that fails fast
            // must not look fast (its failures weigh through the error rate instead).
            latency.add(Math.max(0, latencyNanos), nowNanos, failure);
            latencyMean.add(Math.max(0, latencyNanos), nowNanos, failure);
        }
        if (outcome != Outcome.CANCELLED) {
            errorRate.add(failure ? 1 : 0, nowNanos, false);
        }
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

    /**
     * The plain latency average that least-busy weighs, faded to {@code nowNanos}; 0 before any
     * sample. A slow answer is averaged in, not taken whole: single answers do not rank equal backends.
     */
    public double latencyMeanNanos(long nowNanos) {
        return latencyMean.value(nowNanos);
    }

    /** The latency estimate decayed to {@code nowNanos}; 0 before any sample. */
    public double latencyEwmaNanos(long nowNanos) {
        return latency.value(nowNanos);
    }

    /**
     * The recent share of failed requests in [0, 1]: an average over about the last
     * {@value #ERROR_RATE_SAMPLES} requests (each weighs the same, whether it failed fast or late),
     * read fading toward 0 with the decay time constant while none end. Cancelled requests do not
     * count either way.
     */
    public double recentErrorRate(long nowNanos) {
        return errorRate.value(nowNanos);
    }

    /**
     * The recent error rate as it was before the current run of {@link #consecutiveFailures()}: each
     * failure of the run moved the average 1/{@value #ERROR_RATE_SAMPLES} of the way to 1, which
     * this takes back. Lets outlier detection ask whether the backend's rate explains the run.
     */
    public double errorRateBeforeRun(long nowNanos) {
        double undo = Math.pow(1 - 1.0 / ERROR_RATE_SAMPLES, consecutiveFailures.get());
        return Math.max(0, 1 - (1 - recentErrorRate(nowNanos)) / undo);
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

    /**
     * A connection succeeded (or health checks pass again): no hold-down, and the doubling starts
     * over. A backend that refused connections and accepts them again was most likely restarted, so
     * it warms up ({@link #markRecovered}).
     */
    public void clearHoldDown() {
        if (holdDown.clear()) {
            markRecovered(clock.nanoTime());
            if ("held-down".equals(lastChange.state())) {
                changed("up", "connected again after a hold-down");
            }
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
        // What it did before it went away says little about the process that comes back: warm-up
        // compares the latency it shows from now on with its peers'.
        latency.reset(nowNanos);
        latencyMean.reset(nowNanos);
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
