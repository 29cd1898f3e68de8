package io.fulcrum.balancer.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
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
 * Meters are resolved once per backend and kept in arrays, so recording is a map lookup, array
 * indexes and increments. Only the standard methods get their own tag value, so a client cannot
 * grow the series.
 *
 * <p>Thread-safe: Micrometer meters are; the per-backend holders are created with
 * {@link ConcurrentHashMap#computeIfAbsent} and their lazily resolved counters through an
 * {@link AtomicReferenceArray} (a race registers the same meter twice, which Micrometer answers
 * with the one instance).
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

    RequestMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
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
        answered.requests(methodIndex(r.method()), statusClass, outcome).increment();
        answered.duration.record(r.durationNanos(), TimeUnit.NANOSECONDS);
        if (r.bytesIn() > 0) {
            answered.received.increment(r.bytesIn());
        }
        if (r.bytesOut() > 0) {
            answered.sent.increment(r.bytesOut());
        }
        routeRequests(r.pool(), r.route(), statusClass).increment();
        if (r.grpcStatus() >= 0) {
            answered.grpc(r.grpcStatus() < GRPC_CODES.length ? r.grpcStatus() : GRPC_UNKNOWN).increment();
        }
        List<RequestRecord.Try> tries = r.tries();
        for (int i = 0, n = tries.size(); i < n; i++) {
            RequestRecord.Try t = tries.get(i);
            if (t.firstByteNanos() >= 0) {
                perBackend(t.backend()).firstByte.record(t.firstByteNanos(), TimeUnit.NANOSECONDS);
            }
            if (i < n - 1) {
                retries.computeIfAbsent(t.outcome(), this::retryCounter).increment();
            }
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

    /** The meters of one backend (or of {@link #NO_BACKEND}). */
    private final class PerBackend {
        final String id;
        final List<Meter> meters = new CopyOnWriteArrayList<>();
        final AtomicReferenceArray<Counter> requests =
                new AtomicReferenceArray<>(METHODS.length * CLASS_TAGS.length * OUTCOMES.length);
        /** gRPC calls by status code, resolved when first used. */
        final AtomicReferenceArray<Counter> grpc = new AtomicReferenceArray<>(GRPC_CODES.length);
        final Timer duration;
        final Timer firstByte;
        final Counter received;
        final Counter sent;

        PerBackend(String id) {
            this.id = id;
            duration = histogram(BalancerMetrics.REQUEST_DURATION,
                    "Time from the request head to the end of the response, by the backend that answered");
            firstByte = histogram(BalancerMetrics.BACKEND_FIRST_BYTE,
                    "Per try: time from the request completely sent to the response's first byte");
            received = bytes(BalancerMetrics.CLIENT_RECEIVED, "Request body bytes read from clients");
            sent = bytes(BalancerMetrics.CLIENT_SENT, "Response body bytes written to clients");
            // The completed 2xx..5xx GET series exist from the start; the rest appear when used.
            for (int c = 2; c < CLASS_TAGS.length; c++) {
                requests(0, c, 0);
            }
        }

        private <M extends Meter> M keep(M meter) {
            meters.add(meter);
            return meter;
        }

        /** The backend's Prometheus histogram of times between 1 ms and 60 s. */
        private Timer histogram(String name, String description) {
            return keep(Timer.builder(name).tag(BalancerMetrics.TAG_BACKEND, id)
                    .description(description)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(60))
                    .register(registry));
        }

        /** The backend's counter of body bytes. */
        private Counter bytes(String name, String description) {
            return keep(Counter.builder(name).baseUnit("bytes").tag(BalancerMetrics.TAG_BACKEND, id)
                    .description(description).register(registry));
        }

        Counter requests(int method, int statusClass, int outcome) {
            int i = (method * CLASS_TAGS.length + statusClass) * OUTCOMES.length + outcome;
            Counter c = requests.get(i);
            if (c == null) {
                c = keep(Counter.builder(BalancerMetrics.REQUESTS)
                        .tag(BalancerMetrics.TAG_BACKEND, id)
                        .tag(BalancerMetrics.TAG_METHOD, METHODS[method])
                        .tag(BalancerMetrics.TAG_STATUS_CLASS, CLASS_TAGS[statusClass])
                        .tag(BalancerMetrics.TAG_OUTCOME, OUTCOMES[outcome])
                        .description("Client requests, by the backend that answered, method, status class and outcome")
                        .register(registry));
                requests.set(i, c);
            }
            return c;
        }

        Counter grpc(int code) {
            Counter c = grpc.get(code);
            if (c == null) {
                c = keep(Counter.builder(BalancerMetrics.GRPC_REQUESTS)
                        .tag(BalancerMetrics.TAG_BACKEND, id)
                        .tag(BalancerMetrics.TAG_GRPC_STATUS, GRPC_CODES[code])
                        .description("gRPC calls, by the backend that answered and the grpc-status the client got")
                        .register(registry));
                grpc.set(code, c);
            }
            return c;
        }
    }
}
