package io.fulcrum.balancer.metrics;

import io.fulcrum.balancer.balancing.DecisionTrace;
import java.util.List;

/**
 * What happened to one client request, built once when it ends and read by the request meters and
 * the access log. Times are durations in nanoseconds on the request path's clock; {@code -1} means
 * "did not happen".
 *
 * <p>Immutable once built; safe to hand to another thread (the access log's writer).
 *
 * @param startEpochMillis when the request head was read, on the wall clock
 * @param requestId the {@code X-Request-Id} sent upstream and returned
 * @param traceId the W3C trace id of the request (received or started here)
 * @param client the client's address
 * @param method the request method
 * @param host the request's {@code Host}, or {@code null}
 * @param target the request target (path and query)
 * @param protocol {@code HTTP/1.0}, {@code HTTP/1.1} or {@code HTTP/2.0}
 * @param status the status the client got; 499 when the client left before any response
 * @param outcome {@code completed}, or {@code aborted} when the client left or the response broke
 * @param bytesIn request body bytes read from the client
 * @param bytesOut response body bytes written to the client
 * @param durationNanos from the request head to the end of the response
 * @param firstByteNanos from the request head to the response head sent to the client, or -1
 * @param userAgent the client's {@code User-Agent}, or {@code null}
 * @param backend the backend whose response the client got, or {@code null} (the balancer answered)
 * @param tries each try at a backend, in order
 * @param decision the decision trace of the last try's selection (the access log writes its
 *     {@link DecisionTrace#compact() compact} form), or {@code null} when none was traced
 * @param error the balancer's own error message when it answered, or {@code null}
 * @param route the name of the route the request matched ({@code default-pool} without routes,
 *     {@code no-route} when none matched), or {@code null} when it was refused before routing
 * @param pool the pool the route sent it to, or {@code null} when it went to none
 * @param grpcStatus a gRPC call's {@code grpc-status} as the client got it (from the backend's
 *     trailers, or the head of a trailers-only response, or the balancer's own answer), or
 *     {@link #NO_GRPC_STATUS} for a request that is no gRPC call or a call that got none
 */
public record RequestRecord(long startEpochMillis, String requestId, String traceId, String client, String method,
        String host, String target, String protocol, int status, String outcome, long bytesIn, long bytesOut,
        long durationNanos, long firstByteNanos, String userAgent, String backend, List<Try> tries,
        DecisionTrace decision, String error, String route, String pool, int grpcStatus) {

    public static final String COMPLETED = "completed";
    public static final String ABORTED = "aborted";
    /** The {@link #grpcStatus} of a request that is no gRPC call, or of a call that got no status. */
    public static final int NO_GRPC_STATUS = -1;

    public RequestRecord {
        tries = tries == null ? List.of() : tries;
    }

    /** A record of a request that no route or pool saw. */
    public RequestRecord(long startEpochMillis, String requestId, String traceId, String client, String method,
            String host, String target, String protocol, int status, String outcome, long bytesIn, long bytesOut,
            long durationNanos, long firstByteNanos, String userAgent, String backend, List<Try> tries,
            DecisionTrace decision, String error) {
        this(startEpochMillis, requestId, traceId, client, method, host, target, protocol, status, outcome, bytesIn,
                bytesOut, durationNanos, firstByteNanos, userAgent, backend, tries, decision, error, null, null,
                NO_GRPC_STATUS);
    }

    /**
     * One try at a backend.
     *
     * @param backend the backend's id
     * @param outcome how the try ended: {@code success}, {@code server_error}, {@code connect_failure},
     *     {@code reset}, {@code malformed}, {@code timeout} or {@code cancelled}
     * @param connectNanos time to get a connection (0 for a pooled one), or -1 when none was had
     * @param firstByteNanos from the request completely sent to the response's first byte, or -1
     * @param status the backend's status code, or 0 when it sent none
     */
    public record Try(String backend, String outcome, long connectNanos, long firstByteNanos, int status) {
    }
}
