package io.fulcrum.balancer.balancing;

import java.util.concurrent.TimeUnit;

/** A {@link NanoClock} that moves only when told. Not thread-safe; tests are single-threaded. */
final class FakeClock implements NanoClock {
    private long now = 1_000_000_000L;

    @Override
    public long nanoTime() {
        return now;
    }

    FakeClock advance(long amount, TimeUnit unit) {
        now += unit.toNanos(amount);
        return this;
    }
}
