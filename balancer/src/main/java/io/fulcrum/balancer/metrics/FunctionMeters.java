package io.fulcrum.balancer.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Registers gauges and function counters that read a supplier when scraped, and holds each
 * supplier for as long as this object lives: Micrometer keeps only a weak reference to a gauge's
 * or function counter's object, and a method reference or lambda passed in has no other owner, so
 * it would be collected and the meter would read NaN or 0.
 *
 * <p>Thread-safe: registration is Micrometer's, and the held objects are in a copy-on-write list.
 */
final class FunctionMeters {
    private final MeterRegistry registry;
    /** The objects read by function-based meters, held here so they are never collected. */
    private final List<Object> sources = new CopyOnWriteArrayList<>();

    FunctionMeters(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
    }

    /** Holds {@code source} for as long as these meters live, and returns it. */
    <T> T keep(T source) {
        sources.add(source);
        return source;
    }

    /** A counter of what {@code source} counted so far, read when scraped. */
    FunctionCounter counter(String name, LongSupplier source, String description, String... tags) {
        return FunctionCounter.builder(name, keep(source), LongSupplier::getAsLong).tags(tags)
                .description(description).register(registry);
    }

    /** A gauge of what {@code source} holds now, read when scraped. */
    Gauge gauge(String name, IntSupplier source, String description, String... tags) {
        return Gauge.builder(name, keep(source), IntSupplier::getAsInt).tags(tags)
                .description(description).register(registry);
    }
}
