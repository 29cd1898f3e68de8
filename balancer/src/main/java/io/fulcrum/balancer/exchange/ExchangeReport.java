package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * What the access log and the request meters are told when an exchange ends: the request's facts,
 * the status the client got and who served it, the bytes each way, when the response head went
 * out, whether the response was cut, and the balancer's own error. The exchange tells it what
 * happened as it happens ({@link #answered}, {@link #failed}, {@link #cut}...) and has it
 * {@link #report} once, in the request's one {@link RequestRecord} ({@link RequestFacts#report}).
 *
 * <p>Not thread safe: confined to the client connection's event loop.
 */
final class ExchangeReport {
    private final String requestId;
    private final String clientAddress;
    /** When the request head was read, on the proxy's clock: durations count from here. */
    private final long startNanos;
    /** The route's name, or {@code null} for none. */
    private final String route;
    private final String pool;
    private RequestFacts facts = RequestFacts.UNKNOWN;
    /** The status the client got (499 when it left first). */
    private int clientStatus = 499;
    private String servedBy;
    private long bytesIn;
    private long bytesOut;
    /** When the response head went to the client, or 0 before. */
    private long responseHeadNanos;
    private boolean clientAborted;
    private String error;
    /** What was wrong with the last malformed backend response, for the access log's error. */
    private String malformedDetail;
    /** The response was past {@code max-response-bytes}: refused at its head, or cut. */
    private boolean tooLarge;

    ExchangeReport(String requestId, String clientAddress, long startNanos, String route, String pool) {
        this.requestId = requestId;
        this.clientAddress = clientAddress;
        this.startNanos = startNanos;
        this.route = route;
        this.pool = pool;
    }

    /** The request's facts, from the frontend before the exchange starts. */
    void facts(RequestFacts facts) {
        this.facts = facts;
    }

    /** Whether this client asked for the full decision trace and may see it. */
    boolean debug() {
        return facts.debug();
    }

    /** When the request head was read, on the proxy's clock. */
    long startNanos() {
        return startNanos;
    }

    /** Request body bytes read from the client. */
    void received(int bytes) {
        bytesIn += bytes;
    }

    /** Response body (or tunnel) bytes written to the client. */
    void sent(int bytes) {
        bytesOut += bytes;
    }

    /** The client gets {@code backend}'s answer from now on. */
    void answered(int status, Backend backend, long nowNanos) {
        clientStatus = status;
        servedBy = backend.id();
        responseHeadNanos = nowNanos;
    }

    /** A backend's answer could not be parsed ({@code why}, the decoder's words). */
    void malformed(String why) {
        malformedDetail = why;
    }

    /** A backend's answer broke off unparsable ({@code why}) after the response began. */
    void malformedMidResponse(String why) {
        malformedDetail = why;
        error = UpstreamFailure.MALFORMED_RESPONSE.message() + ": " + why;
    }

    /** The response grew past {@code max-response-bytes} after its head went out, and was cut there. */
    void cutTooLarge() {
        tooLarge = true;
        clientAborted = true;
        error = UpstreamFailure.RESPONSE_TOO_LARGE.message() + " (cut)";
    }

    /** The response was cut, or the client left, before the response's end. */
    void cut() {
        clientAborted = true;
    }

    /** The client gets {@code failure} instead of a backend's answer. */
    void failed(UpstreamFailure failure) {
        clientStatus = failure.status().code();
        tooLarge |= failure == UpstreamFailure.RESPONSE_TOO_LARGE;
        // The client learns what kind of failure; the log also what the backend got wrong.
        error = failure == UpstreamFailure.MALFORMED_RESPONSE && malformedDetail != null
                ? failure.message() + ": " + malformedDetail : failure.message();
    }

    /** The client gets an error of the balancer's own (body too large, 400, 408). */
    void refused(HttpResponseStatus status, String message) {
        error = message;
        clientStatus = status.code();
    }

    /**
     * Tells the meters and the access log what happened, in the request's one record.
     *
     * @param client the client side the response went to: a gRPC call's ({@link GrpcReplies}) knows
     *     the call's {@code grpc-status}
     * @param tries each ended try, or {@code null} for none
     * @param decision the last selection's trace, or {@code null}
     */
    void report(ProxyContext proxy, ClientSide client, List<RequestRecord.Try> tries, DecisionTrace decision,
            long nowNanos) {
        if (tooLarge) {
            proxy.tooLargeResponse();
        }
        facts.report(proxy, requestId, clientAddress, clientStatus, clientAborted, bytesIn, bytesOut,
                nowNanos - startNanos, responseHeadNanos == 0 ? -1 : responseHeadNanos - startNanos,
                clientAborted && clientStatus == 499 ? null : servedBy, tries, decision, error, route, pool,
                client instanceof GrpcReplies grpc ? grpc.status() : RequestRecord.NO_GRPC_STATUS);
    }
}
