package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.balancing.NanoClock;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client connection's one response timer: armed for the earliest deadline asked for, never
 * re-scheduled for a later one. A timer that fires early (its exchange ended, another began) finds
 * the deadlines still due and re-arms, so nothing is scheduled or cancelled per request.
 *
 * <p>Confined to the connection's event loop.
 */
public final class DeadlineTimer {
    private final Runnable onFire;
    private final NanoClock clock;
    private ScheduledFuture<?> timer;
    private long at;

    /** @param onFire runs on the event loop when the timer fires; it calls {@link #arm} again if need be */
    public DeadlineTimer(NanoClock clock, Runnable onFire) {
        this.clock = clock;
        this.onFire = () -> {
            timer = null;
            onFire.run();
        };
    }

    /**
     * Makes sure the timer fires, on {@code executor}, no later than {@code deadline}. Deadlines
     * are {@link NanoClock} times, compared by their difference as {@link System#nanoTime()}
     * requires: a clock near {@link Long#MAX_VALUE} has later deadlines wrap to negative numbers.
     */
    public void arm(EventExecutor executor, long deadline) {
        if (timer != null && at - deadline <= 0) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        at = deadline;
        timer = executor.schedule(onFire, Math.max(0, deadline - clock.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Stops the timer (the connection is gone). */
    public void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
