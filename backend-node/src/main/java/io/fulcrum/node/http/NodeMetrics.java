package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.fulcrum.node.store.StoreWorkers;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every meter of the post server, named in one place. Prometheus shows them as
 * {@code fulcrum_node_requests_seconds_*} (count, sum and histogram buckets, tagged with route, method
 * and status), {@code fulcrum_node_in_flight}, {@code fulcrum_node_event_streams}, {@code fulcrum_node_load},
 * {@code fulcrum_node_store_queued} and, from HikariCP, {@code hikaricp_connections_*}.
 * Tags are low-cardinality: route patterns, never raw paths.
 *
 * <p>Thread-safe.
 */
public final class NodeMetrics {
    /** Request latency and count. */
    public static final String REQUESTS = "fulcrum.node.requests";
    /** API requests being served now. */
    public static final String IN_FLIGHT = "fulcrum.node.in.flight";
    /** The load figure reported by /health. */
    public static final String LOAD = "fulcrum.node.load";
    /** Event streams ({@code GET /events}) open now; not counted as requests in flight. */
    public static final String EVENT_STREAMS = "fulcrum.node.event.streams";
    /** Store calls waiting for a worker. */
    public static final String STORE_QUEUED = "fulcrum.node.store.queued";

    private final PrometheusMeterRegistry registry;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** Registers the gauges on {@code registry}. */
    public NodeMetrics(PrometheusMeterRegistry registry, StoreWorkers workers) {
        this.registry = requireNonNull(registry, "registry");
        Gauge.builder(IN_FLIGHT, inFlight, AtomicInteger::get).register(registry);
        Gauge.builder(LOAD, workers, StoreWorkers::load).register(registry);
        Gauge.builder(STORE_QUEUED, workers, StoreWorkers::queuedWrites).tag("pool", "writes").register(registry);
        Gauge.builder(STORE_QUEUED, workers, StoreWorkers::queuedReads).tag("pool", "reads").register(registry);
    }

    /** Reports the open event streams of {@code feed}. */
    public void bindEventStreams(EventFeed feed) {
        Gauge.builder(EVENT_STREAMS, feed, EventFeed::streams).register(registry);
    }

    /** Counts a request as started. */
    public void started() {
        inFlight.incrementAndGet();
    }

    /** Counts a request as finished and records its latency. */
    public void finished(ApiRoute route, String method, int status, long nanos) {
        inFlight.decrementAndGet();
        Timer.builder(REQUESTS)
                .tag("route", route.pattern())
                .tag("method", method)
                .tag("status", Integer.toString(status))
                .publishPercentileHistogram()
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** API requests being served now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }
}
