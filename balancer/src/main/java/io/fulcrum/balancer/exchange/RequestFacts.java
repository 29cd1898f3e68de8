package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.accesslog.AccessLog;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.metrics.RequestMetrics;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.util.List;

/**
 * What the access log and the request meters need to know of a request, captured as plain values
 * where the request head is first seen, so that nothing keeps the head itself for them.
 *
 * @param startEpochMillis when the head was read, on the wall clock
 * @param method the request method
 * @param target the request target (path and query)
 * @param host the {@code Host} header, or {@code null}
 * @param userAgent the {@code User-Agent} header, or {@code null}
 * @param protocol {@code HTTP/1.0} or {@code HTTP/1.1}
 * @param traceId the W3C trace id (received, or started here)
 * @param startedTraceparent the {@code traceparent} of a trace started here, or {@code null} when
 *     one was received
 * @param debug whether the response carries the full decision trace
 *
 * <p>Immutable; built on the client connection's event loop, read there when the request ends.
 */
record RequestFacts(long startEpochMillis, String method, String target, String host, String userAgent,
        String protocol, String traceId, String startedTraceparent, boolean debug) {

    /** For exchanges built without a frontend (unit tests). */
    static final RequestFacts UNKNOWN = new RequestFacts(0, "-", "-", null, null, "HTTP/1.1", null, null, false);

    /**
     * Tells the request meters and the access log how the request ended, in its one
     * {@link RequestRecord}: the only place one is built, whether an exchange answered the request
     * or the intake refused it first. Builds nothing when neither is on. Called once per request,
     * on its event loop.
     *
     * @param client the client's address
     * @param status the status the client got (499 when it left before any response)
     * @param aborted whether the client left or the response broke after it began
     * @param bytesIn request body bytes read from the client
     * @param bytesOut response body bytes written to the client
     * @param durationNanos from the request head to the end of the response
     * @param firstByteNanos from the request head to the response head sent, or -1
     * @param backend the backend whose response the client got, or {@code null}
     * @param tries each try at a backend, in order, or {@code null} for none
     * @param decision the last selection's trace, or {@code null}
     * @param error the balancer's own error message when it answered, or {@code null}
     * @param route the matched route's name, or {@code null} when refused before routing
     * @param pool the pool's name, or {@code null} when the request went to none
     * @param grpcStatus a gRPC call's {@code grpc-status}, else {@link RequestRecord#NO_GRPC_STATUS}
     */
    void report(ProxyContext proxy, String requestId, String client, int status, boolean aborted, long bytesIn,
            long bytesOut, long durationNanos, long firstByteNanos, String backend, List<RequestRecord.Try> tries,
            DecisionTrace decision, String error, String route, String pool, int grpcStatus) {
        AccessLog accessLog = proxy.accessLog();
        RequestMetrics metrics = proxy.requestMetrics();
        if (metrics == null && !accessLog.enabled()) {
            return;
        }
        RequestRecord r = new RequestRecord(startEpochMillis, requestId, traceId, client, method, host, target,
                protocol, status, aborted ? RequestRecord.ABORTED : RequestRecord.COMPLETED, bytesIn, bytesOut,
                durationNanos, firstByteNanos, userAgent, backend, tries, decision, error, route, pool, grpcStatus);
        if (metrics != null) {
            metrics.record(r);
        }
        accessLog.log(r);
    }
}
