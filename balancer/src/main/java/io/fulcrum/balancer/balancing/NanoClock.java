package io.fulcrum.balancer.balancing;

/**
 * A monotonic nanosecond clock, injected into routing so tests can drive time by hand. Values are
 * only meaningful as differences, exactly like {@link System#nanoTime()}.
 * Implementations must be thread-safe and cheap: the selection path reads it once per request.
 */
@FunctionalInterface
public interface NanoClock {
    /** The JVM's monotonic clock. */
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
