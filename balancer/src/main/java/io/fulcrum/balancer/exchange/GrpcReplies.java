package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.edge.DeadlineTimer;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.edge.RequestValidator;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The client side of a gRPC call: every answer of the balancer's own (no backend, a timeout, a
 * rate limit, a refused request, no route) becomes what a gRPC client understands, HTTP 200 with
 * {@code grpc-status} and {@code grpc-message} in a response of headers only ("trailers-only"),
 * never an HTML or JSON body; and a response that breaks after it began ends with trailers saying
 * {@code UNAVAILABLE} instead of a reset stream. Everything else passes to the stream it wraps,
 * and the {@code grpc-status} that went to the client is kept for the access log and the meters.
 *
 * <p>Not thread safe: confined to the client connection's event loop, like the side it wraps.
 */
final class GrpcReplies implements ClientSide, RequestIntake.Answers {
    private final ClientSide side;
    private final RequestIntake.Answers answers;
    /** Whether a response head went to the client. */
    private boolean headWritten;
    /** The {@code grpc-status} that went to the client, or -1 before one did. */
    private int status = RequestRecord.NO_GRPC_STATUS;

    GrpcReplies(ClientSide side, RequestIntake.Answers answers) {
        this.side = side;
        this.answers = answers;
    }

    /** The {@code grpc-status} the client got, or {@link RequestRecord#NO_GRPC_STATUS} while it got none. */
    int status() {
        return status;
    }

    /**
     * The {@code grpc-status} of the balancer's answer with {@code httpStatus} to a gRPC call before
     * any exchange: a success passes without one ({@link RequestRecord#NO_GRPC_STATUS}), anything
     * else becomes the gRPC status {@link #answerLocally} sends.
     */
    static int statusOfAnswer(int httpStatus) {
        return httpStatus / 100 == 2 ? RequestRecord.NO_GRPC_STATUS : Grpc.statusOf(httpStatus);
    }

    /** A trailers-only response: {@code status} as a gRPC status, {@code message} its words. */
    private static void trailersOnly(HttpHeaders headers, HttpResponseStatus status, String message,
            String requestId) {
        headers.set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                .set(Grpc.STATUS, Integer.toString(Grpc.statusOf(status)))
                .set(Grpc.MESSAGE, Grpc.encodeMessage(message));
        if (requestId != null) {
            headers.set(HeaderRules.X_REQUEST_ID, requestId);
        }
    }

    @Override
    public void writeError(Exchange exchange, HttpResponseStatus status, String message, boolean close,
            boolean retryAfter) {
        if (headWritten) {
            abortResponse(exchange);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        trailersOnly(head.headers(), status, message, exchange.requestId());
        String decision = exchange.decisionForClient();
        if (decision != null) {
            head.headers().set(Exchange.DECISION_HEADER, decision);
        }
        writeResponse(head);
        side.writeResponse(LastHttpContent.EMPTY_LAST_CONTENT);
        side.flushToClient();
    }

    /** An answer in the backend's place (an auth refusal): a success passes as it is, else a gRPC status. */
    @Override
    public void writeAnswer(Exchange exchange, FullHttpResponse answer, boolean close) {
        if (answer.status().code() / 100 == 2) {
            side.writeAnswer(exchange, answer, close);
            return;
        }
        HttpResponseStatus status = answer.status();
        answer.release();
        writeError(exchange, status, status.reasonPhrase(), close, false);
    }

    /** The response broke after it began: the call ends with {@code UNAVAILABLE} in its trailers. */
    @Override
    public void abortResponse(Exchange exchange) {
        LastHttpContent end = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        end.trailingHeaders().set(Grpc.STATUS, Integer.toString(Grpc.UNAVAILABLE))
                .set(Grpc.MESSAGE, Grpc.encodeMessage("backend response broke off"));
        status = Grpc.UNAVAILABLE;
        side.writeResponse(end);
        side.flushToClient();
    }

    @Override
    public void refuse(HttpRequest request, String requestId, RequestValidator.Rejection rejection,
            String retryAfter) {
        answers.answerLocally(request, whole(rejection.status(), rejection.message(), requestId));
    }

    @Override
    public void answerLocally(HttpRequest request, FullHttpResponse response) {
        if (response.status().code() / 100 == 2) {
            answers.answerLocally(request, response);
            return;
        }
        String requestId = response.headers().get(HeaderRules.X_REQUEST_ID);
        HttpResponseStatus status = response.status();
        response.release();
        answers.answerLocally(request, whole(status, status.reasonPhrase(), requestId));
    }

    private static FullHttpResponse whole(HttpResponseStatus status, String message, String requestId) {
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        trailersOnly(out.headers(), status, message, requestId);
        return out;
    }

    @Override
    public void writeResponse(HttpObject part) {
        if (part instanceof HttpResponse head) {
            headWritten = true;
            // A trailers-only response carries its status in its head.
            status = Grpc.statusCode(head.headers().get(Grpc.STATUS));
        }
        if (part instanceof LastHttpContent end && !end.trailingHeaders().isEmpty()) {
            int trailer = Grpc.statusCode(end.trailingHeaders().get(Grpc.STATUS));
            status = trailer >= 0 ? trailer : status;
        }
        side.writeResponse(part);
    }

    @Override
    public EventLoop eventLoop() {
        return side.eventLoop();
    }

    @Override
    public boolean isWritable() {
        return side.isWritable();
    }

    @Override
    public boolean inReadBatch() {
        return side.inReadBatch();
    }

    @Override
    public void readRequest() {
        side.readRequest();
    }

    @Override
    public void writeInterim(HttpResponse interim) {
        side.writeInterim(interim);
    }

    @Override
    public void flushToClient() {
        side.flushToClient();
    }

    @Override
    public DeadlineTimer responseTimer() {
        return side.responseTimer();
    }

    @Override
    public void exchangeDone(Exchange exchange) {
        side.exchangeDone(exchange);
    }
}
