package io.fulcrum.balancer.proxy;

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
 * @param spanId the parent id of a trace started here, or {@code null} when one was received
 * @param debug whether the response carries the full decision trace
 */
record RequestFacts(long startEpochMillis, String method, String target, String host, String userAgent,
        String protocol, String traceId, String spanId, boolean debug) {

    /** For exchanges built without a frontend (unit tests). */
    static final RequestFacts UNKNOWN = new RequestFacts(0, "-", "-", null, null, "HTTP/1.1", null, null, false);
}
