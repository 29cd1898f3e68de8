package io.fulcrum.balancer.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The request meters, recorded from one {@link RequestRecord} per finished client request:
 * <ul>
 *   <li>{@code fulcrum.requests}: by {@code backend} (the one that answered, or {@code none} when the
 *       balancer did), {@code method} (the standard ones, else {@code OTHER}), {@code status.class}
 *       ({@code 1xx}..{@code 5xx}, {@code none} when the client left before any response) and
 *       {@code outcome} ({@code completed} or {@code aborted});</li>
 *   <li>{@code fulcrum.request.duration}: request head to the end of the response, a Prometheus
 *       histogram per {@code backend}; the overall one is their sum by {@code le};</li>
 *   <li>{@code fulcrum.backend.first.byte}: per try, request sent to the response's first byte, a
 *       histogram per {@code backend};</li>
 *   <li>{@code fulcrum.client.received} / {@code fulcrum.client.sent}: request and response body
 *       bytes, by {@code backend};</li>
 *   <li>{@code fulcrum.retries}: tries followed by another, by {@code reason} (how the try ended);</li>
 *   <li>{@code fulcrum.route.requests}: by {@code route} (its name, {@code default-pool} without
 *       routes, {@code no-route} when none matched, {@code none} when the request was refused before
 *       routing), {@code pool} ({@code none} when it went to none) and {@code status.class}. Kept
 *       apart from {@code fulcrum.requests} so that the series are routes plus backends, not their
 *       product.</li>
 *   <li>{@code fulcrum.grpc.requests}: gRPC calls by {@code backend} and {@code grpc.status}, the
 *       name of the {@code grpc-status} the client got ({@code OK}, {@code UNAVAILABLE}...; a code
 *       past 16 counts as {@code UNKNOWN}, as a gRPC client reads it). A series appears with its
 *       first call.</li>
 * </ul>
 * A backend's counts are kept per event loop and summed when scraped ({@link LoopCounters}): recording
 * a request is a map lookup and plain increments on the recording thread's own array, with no
 * atomic operation and nothing the other loops write; its series are function counters and, for the
 * two histograms, a Prometheus collector of this class, with the names, buckets and {@code _max}
 * gauges the Micrometer timers had. Only the standard methods get their own tag value, so a client
 * cannot grow the series.
 *
 * <p>Thread-safe: per-backend holders are created with {@link ConcurrentHashMap#computeIfAbsent},
 * their series registered on first use through an {@link AtomicReferenceArray} (a race registers the
 * same meter twice, which Micrometer answers with the one instance); the route, retry, mirror and
 * hedge counters are Micrometer's.
 */
public final class RequestMetrics {
    /** The {@code backend} tag of requests the balancer answered itself. */
    public static final String NO_BACKEND = "none";
    private static final String[] CLASS_TAGS = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
        "CONNECT", "OTHER"};
    private static final String[] OUTCOMES = {RequestRecord.COMPLETED, RequestRecord.ABORTED};
    /** The gRPC status codes' names, by code. */
    private static final String[] GRPC_CODES = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED"};
    private static final int GRPC_UNKNOWN = 2;

    private final MeterRegistry registry;
    private final Map<String, PerBackend> backends = new ConcurrentHashMap<>();
    private final Map<String, Counter> retries = new ConcurrentHashMap<>();
    private final Map<String, Counter> mirrors = new ConcurrentHashMap<>();
    private final Map<String, Counter> hedges = new ConcurrentHashMap<>();
    /** Pool, then route: a counter per status class, resolved when first used. */
    private final Map<String, Map<String, AtomicReferenceArray<Counter>>> routes = new ConcurrentHashMap<>();

    /** How long a window of the histograms' {@code _max} lasts. */
    private static final long MAX_WINDOW_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** The window the request path records the histograms' {@code _max} in; see {@link #rotateMaxWindow}. */
    private volatile int maxWindow;
    private long windowStarted = System.nanoTime();

    RequestMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        if (registry instanceof PrometheusMeterRegistry prometheus) {
            prometheus.getPrometheusRegistry().register(new Histograms(prometheus.config().namingConvention()));
        }
        // Present from the start, so dashboards and alerts find them before the first request.
        perBackend(NO_BACKEND);
    }

    /** The class index (1..5) of a status code; codes outside 100..599 count as 5xx; 0 for none. */
    static int statusClass(int code) {
        if (code == 0) {
            return 0;
        }
        int c = code / 100;
        return c < 1 ? 5 : Math.min(c, 5);
    }

    static int methodIndex(String method) {
        for (int i = 0; i < METHODS.length - 1; i++) {
            if (METHODS[i].equals(method)) {
                return i;
            }
        }
        return METHODS.length - 1;
    }

    /**
     * Counts one copy of a request to a route's shadow pool by how it ended ({@code answered},
     * {@code failed}, {@code too-large}, {@code no-backend} or {@code cancelled}).
     */
    public void mirrored(String route, String pool, String result) {
        mirrorCounter(route, pool, result).increment();
    }

    /** Declares a mirroring route's series, each of {@code results}, so that they read 0 before its first copy. */
    public void declareMirror(String route, String pool, List<String> results) {
        results.forEach(result -> mirrorCounter(route, pool, result));
    }

    private Counter mirrorCounter(String route, String pool, String result) {
        return routeCounter(mirrors, BalancerMetrics.MIRROR_REQUESTS,
                "Copies of requests to a route's shadow pool, by how they ended", route, pool, result);
    }

    /**
     * Counts one hedge of a route's request by what became of it: {@code sent} (a second try went
     * out), {@code won} (it answered first) or {@code refused} (no attempt, budget slot or backend
     * was left for it).
     */
    public void hedged(String route, String pool, String result) {
        hedgeCounter(route, pool, result).increment();
    }

    /** Declares a hedging route's series, each of {@code results}, so that they read 0 before its first hedge. */
    public void declareHedge(String route, String pool, List<String> results) {
        results.forEach(result -> hedgeCounter(route, pool, result));
    }

    private Counter hedgeCounter(String route, String pool, String result) {
        return routeCounter(hedges, BalancerMetrics.HEDGE_REQUESTS,
                "Hedged requests' second tries, by what became of them", route, pool, result);
    }

    private Counter routeCounter(Map<String, Counter> counters, String name, String description, String route,
            String pool, String result) {
        return counters.computeIfAbsent(route + '\n' + pool + '\n' + result, k -> Counter.builder(name)
                .tag(BalancerMetrics.TAG_ROUTE, route).tag(BalancerMetrics.TAG_POOL, pool)
                .tag(BalancerMetrics.TAG_RESULT, result)
                .description(description)
                .register(registry));
    }

    /** Records one finished request. */
    public void record(RequestRecord r) {
        PerBackend answered = perBackend(r.backend() == null ? NO_BACKEND : r.backend());
        int outcome = RequestRecord.ABORTED.equals(r.outcome()) ? 1 : 0;
        // A client that left gets 499 in the log; no response reached it.
        int statusClass = r.status() == 499 && outcome == 1 ? 0 : statusClass(r.status());
        int grpc = r.grpcStatus() < 0 ? -1 : r.grpcStatus() < GRPC_CODES.length ? r.grpcStatus() : GRPC_UNKNOWN;
        int window = maxWindow;
        answered.record(methodIndex(r.method()), statusClass, outcome, r.bytesIn(), r.bytesOut(), r.durationNanos(),
                grpc, window);
        routeRequests(r.pool(), r.route(), statusClass).increment();
        List<RequestRecord.Try> tries = r.tries();
        for (int i = 0, n = tries.size(); i < n; i++) {
            RequestRecord.Try t = tries.get(i);
            if (t.firstByteNanos() >= 0) {
                perBackend(t.backend()).recordFirstByte(t.firstByteNanos(), window);
            }
            if (i < n - 1) {
                retries.computeIfAbsent(t.outcome(), this::retryCounter).increment();
            }
        }
    }

    /**
     * The request-duration histogram of backend {@code id} (of {@link #NO_BACKEND} for the
     * balancer's own answers), summed over the event loops now; {@code null} for an unknown backend.
     */
    public io.micrometer.core.instrument.distribution.HistogramSnapshot durations(String id) {
        PerBackend p = backends.get(id);
        return p == null ? null : p.duration.snapshot();
    }

    /**
     * Starts a new window of the histograms' {@code _max} when the current one is a minute old, so
     * that {@code _max} is the largest time of the last one to two minutes (Micrometer's timers
     * kept two minutes). Called by reads; the request path only reads {@link #maxWindow}.
     */
    private synchronized void rotateMaxWindow() {
        long now = System.nanoTime();
        if (now - windowStarted < MAX_WINDOW_NANOS) {
            return;
        }
        int next = maxWindow + 1;
        for (PerBackend p : backends.values()) {
            p.duration.startWindow(next);
            p.firstByte.startWindow(next);
        }
        windowStarted = now;
        maxWindow = next;
    }

    /**
     * The two request histograms of every backend as Prometheus reads them, with the {@code _max}
     * gauge Micrometer's timers had beside each: summed over the event loops at each scrape.
     */
    private final class Histograms implements MultiCollector {
        private static final String DURATION_HELP =
                "Time from the request head to the end of the response, by the backend that answered";
        private static final String FIRST_BYTE_HELP =
                "Per try: time from the request completely sent to the response's first byte";
        /** The meters' names as the registry renders a timer's ({@code fulcrum_request_duration_seconds}). */
        private final String duration;
        private final String firstByte;

        Histograms(NamingConvention naming) {
            this.duration = naming.name(BalancerMetrics.REQUEST_DURATION, Meter.Type.TIMER);
            this.firstByte = naming.name(BalancerMetrics.BACKEND_FIRST_BYTE, Meter.Type.TIMER);
        }

        @Override
        public MetricSnapshots collect() {
            rotateMaxWindow();
            HistogramSnapshot.Builder durations = HistogramSnapshot.builder().name(duration).help(DURATION_HELP);
            HistogramSnapshot.Builder firstBytes = HistogramSnapshot.builder().name(firstByte).help(FIRST_BYTE_HELP);
            GaugeSnapshot.Builder durationMax = GaugeSnapshot.builder().name(duration + "_max").help(DURATION_HELP);
            GaugeSnapshot.Builder firstByteMax = GaugeSnapshot.builder().name(firstByte + "_max").help(FIRST_BYTE_HELP);
            for (PerBackend p : backends.values()) {
                durations.dataPoint(p.duration.dataPoint(p.labels));
                firstBytes.dataPoint(p.firstByte.dataPoint(p.labels));
                durationMax.dataPoint(GaugeDataPointSnapshot.builder().value(p.duration.maxSeconds()).labels(p.labels)
                        .build());
                firstByteMax.dataPoint(GaugeDataPointSnapshot.builder().value(p.firstByte.maxSeconds())
                        .labels(p.labels).build());
            }
            return new MetricSnapshots(durations.build(), durationMax.build(), firstBytes.build(), firstByteMax.build());
        }

        @Override
        public List<String> getPrometheusNames() {
            return List.of(duration, duration + "_max", firstByte, firstByte + "_max");
        }
    }

    private Counter routeRequests(String pool, String route, int statusClass) {
        String p = pool == null ? NO_BACKEND : pool;
        String r = route == null ? NO_BACKEND : route;
        Map<String, AtomicReferenceArray<Counter>> byRoute = routes.get(p);
        if (byRoute == null) {
            byRoute = routes.computeIfAbsent(p, k -> new ConcurrentHashMap<>());
        }
        AtomicReferenceArray<Counter> classes = byRoute.get(r);
        if (classes == null) {
            classes = byRoute.computeIfAbsent(r, k -> new AtomicReferenceArray<>(CLASS_TAGS.length));
        }
        Counter c = classes.get(statusClass);
        if (c == null) {
            c = Counter.builder(BalancerMetrics.ROUTE_REQUESTS).tag(BalancerMetrics.TAG_ROUTE, r)
                    .tag(BalancerMetrics.TAG_POOL, p).tag(BalancerMetrics.TAG_STATUS_CLASS, CLASS_TAGS[statusClass])
                    .description("Client requests, by the route they matched, its pool and the status class")
                    .register(registry);
            classes.set(statusClass, c);
        }
        return c;
    }

    /**
     * Declares a route's completed 2xx..5xx series, so that they read 0 before its first request.
     *
     * @param pool the route's pool, or {@code null} for a redirect or fixed response
     */
    public void declareRoute(String route, String pool) {
        for (int c = 2; c < CLASS_TAGS.length; c++) {
            routeRequests(pool, route, c);
        }
    }

    private Counter retryCounter(String reason) {
        return Counter.builder(BalancerMetrics.RETRIES).tag(BalancerMetrics.TAG_REASON, reason)
                .description("Tries followed by another try of the same request, by how the try ended")
                .register(registry);
    }

    /** Declares the retry reasons up front, so that every series exists at 0 before the first retry. */
    void declareRetryReasons(List<String> reasons) {
        reasons.forEach(reason -> retries.computeIfAbsent(reason, this::retryCounter));
    }

    private PerBackend perBackend(String id) {
        PerBackend p = backends.get(id);
        return p != null ? p : backends.computeIfAbsent(id, PerBackend::new);
    }

    /** Registers a backend's meters now (its series read 0 until its first request). */
    void declare(String id) {
        perBackend(id);
    }

    /** Removes the meters of a backend that left the configuration. */
    void forget(String id) {
        PerBackend p = backends.remove(id);
        if (p != null) {
            p.meters.forEach(registry::remove);
        }
    }

    /**
     * The meters of one backend (or of {@link #NO_BACKEND}): counts kept per thread
     * ({@link LoopCounters}) and read when scraped, through function counters and, for the two
     * histograms, this class's {@link Histograms} collector.
     */
    private final class PerBackend {
        private static final int REQUESTS_AT = 0;
        private static final int GRPC_AT = REQUESTS_AT + METHODS.length * CLASS_TAGS.length * OUTCOMES.length;
        private static final int RECEIVED_AT = GRPC_AT + GRPC_CODES.length;
        private static final int SENT_AT = RECEIVED_AT + 1;
        private static final int DURATION_AT = SENT_AT + 1;
        private static final int FIRST_BYTE_AT = DURATION_AT + LoopHistogram.SLOTS;
        private static final int SLOTS = FIRST_BYTE_AT + LoopHistogram.SLOTS;

        final String id;
        final Labels labels;
        final List<Meter> meters = new CopyOnWriteArrayList<>();
        final LoopCounters counts = new LoopCounters(SLOTS);
        /** The request and gRPC series registered so far, by slot; a series appears with its first count. */
        final AtomicReferenceArray<Meter> registered = new AtomicReferenceArray<>(RECEIVED_AT);
        final LoopHistogram duration = new LoopHistogram(counts, DURATION_AT);
        final LoopHistogram firstByte = new LoopHistogram(counts, FIRST_BYTE_AT);

        PerBackend(String id) {
            this.id = id;
            this.labels = Labels.of(BalancerMetrics.TAG_BACKEND, id);
            bytes(BalancerMetrics.CLIENT_RECEIVED, RECEIVED_AT, "Request body bytes read from clients");
            bytes(BalancerMetrics.CLIENT_SENT, SENT_AT, "Response body bytes written to clients");
            // The completed 2xx..5xx GET series exist from the start; the rest appear when used.
            for (int c = 2; c < CLASS_TAGS.length; c++) {
                requestsSeries(requestSlot(0, c, 0));
            }
        }

        private <M extends Meter> M keep(M meter) {
            meters.add(meter);
            return meter;
        }

        /** The backend's counter of body bytes. */
        private void bytes(String name, int slot, String description) {
            keep(FunctionCounter.builder(name, counts, c -> c.sum(slot)).baseUnit("bytes")
                    .tag(BalancerMetrics.TAG_BACKEND, id).description(description).register(registry));
        }

        static int requestSlot(int method, int statusClass, int outcome) {
            return REQUESTS_AT + (method * CLASS_TAGS.length + statusClass) * OUTCOMES.length + outcome;
        }

        /** Counts one request on the calling thread: its series, the bytes and the time it took. */
        void record(int method, int statusClass, int outcome, long bytesIn, long bytesOut, long nanos, int grpcCode,
                int window) {
            long[] shard = counts.shard();
            int slot = requestSlot(method, statusClass, outcome);
            LoopCounters.add(shard, slot, 1);
            ensureRegistered(slot);
            if (bytesIn > 0) {
                LoopCounters.add(shard, RECEIVED_AT, bytesIn);
            }
            if (bytesOut > 0) {
                LoopCounters.add(shard, SENT_AT, bytesOut);
            }
            duration.record(shard, nanos, window);
            if (grpcCode >= 0) {
                LoopCounters.add(shard, GRPC_AT + grpcCode, 1);
                ensureRegistered(GRPC_AT + grpcCode);
            }
        }

        void recordFirstByte(long nanos, int window) {
            firstByte.record(counts.shard(), nanos, window);
        }

        private void ensureRegistered(int slot) {
            if (registered.get(slot) == null) {
                if (slot >= GRPC_AT) {
                    grpcSeries(slot);
                } else {
                    requestsSeries(slot);
                }
            }
        }

        private void requestsSeries(int slot) {
            int i = slot - REQUESTS_AT;
            int outcome = i % OUTCOMES.length;
            int statusClass = i / OUTCOMES.length % CLASS_TAGS.length;
            int method = i / OUTCOMES.length / CLASS_TAGS.length;
            series(slot, FunctionCounter.builder(BalancerMetrics.REQUESTS, counts, c -> c.sum(slot))
                    .tag(BalancerMetrics.TAG_BACKEND, id)
                    .tag(BalancerMetrics.TAG_METHOD, METHODS[method])
                    .tag(BalancerMetrics.TAG_STATUS_CLASS, CLASS_TAGS[statusClass])
                    .tag(BalancerMetrics.TAG_OUTCOME, OUTCOMES[outcome])
                    .description("Client requests, by the backend that answered, method, status class and outcome"));
        }

        private void grpcSeries(int slot) {
            series(slot, FunctionCounter.builder(BalancerMetrics.GRPC_REQUESTS, counts, c -> c.sum(slot))
                    .tag(BalancerMetrics.TAG_BACKEND, id)
                    .tag(BalancerMetrics.TAG_GRPC_STATUS, GRPC_CODES[slot - GRPC_AT])
                    .description("gRPC calls, by the backend that answered and the grpc-status the client got"));
        }

        /** Registers a series once: a race registers it twice, which Micrometer answers with the one meter. */
        private void series(int slot, FunctionCounter.Builder<LoopCounters> builder) {
            FunctionCounter counter = builder.register(registry);
            if (registered.compareAndSet(slot, null, counter)) {
                keep(counter);
            }
        }
    }
}
