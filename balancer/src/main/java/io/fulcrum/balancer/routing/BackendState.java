package io.fulcrum.balancer.routing;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live state of one backend: counters updated lock-free by the event loops, flags set by health
 * checking and the admin API. Thread-safe; every read is a plain volatile or atomic read.
 */
public final class BackendState {
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile boolean healthy = true;
    private volatile boolean draining;
    private volatile long ejectedUntilNanos;
    private volatile boolean ejected;
    private volatile double reportedLoad;
    private volatile double latencyEwmaNanos;

    boolean tryAcquire(int maxInFlight) {
        while (true) {
            int current = inFlight.get();
            if (current >= maxInFlight) {
                return false;
            }
            if (inFlight.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    /** Ends a request started by a successful {@link Backend#tryAcquire()}. */
    public void onRequestEnd(long latencyNanos, Outcome outcome) {
        inFlight.decrementAndGet();
        requests.incrementAndGet();
        if (outcome.isFailure()) {
            errors.incrementAndGet();
        }
        double ewma = latencyEwmaNanos;
        latencyEwmaNanos = ewma == 0 ? latencyNanos : ewma * 0.9 + latencyNanos * 0.1;
    }

    public int inFlight() {
        return inFlight.get();
    }

    public long requests() {
        return requests.get();
    }

    public long errors() {
        return errors.get();
    }

    public double latencyEwmaNanos() {
        return latencyEwmaNanos;
    }

    public boolean healthy() {
        return healthy;
    }

    public void setHealthy(boolean healthy) {
        this.healthy = healthy;
    }

    public boolean draining() {
        return draining;
    }

    public void setDraining(boolean draining) {
        this.draining = draining;
    }

    public boolean ejected() {
        return ejected;
    }

    public long ejectedUntilNanos() {
        return ejectedUntilNanos;
    }

    public void eject(long untilNanos) {
        this.ejectedUntilNanos = untilNanos;
        this.ejected = true;
    }

    public void unEject() {
        this.ejected = false;
    }

    public double reportedLoad() {
        return reportedLoad;
    }

    public void setReportedLoad(double load) {
        this.reportedLoad = load;
    }

    /** Healthy, not ejected and not draining. */
    public boolean routable() {
        return healthy && !ejected && !draining;
    }
}
