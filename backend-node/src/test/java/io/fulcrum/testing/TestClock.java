package io.fulcrum.testing;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves forward by one second each time it is read, so that successive writes get
 * distinct, predictable timestamps. Thread-safe.
 */
public final class TestClock extends Clock {
    private final AtomicLong millis;

    /** Starts at {@code start}. */
    public TestClock(Instant start) {
        this.millis = new AtomicLong(start.toEpochMilli());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.getAndAdd(1000));
    }
}
