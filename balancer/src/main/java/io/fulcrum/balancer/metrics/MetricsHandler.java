package io.fulcrum.balancer.metrics;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Counts each client request by the status class of its response and times it, from the moment
 * the request head is read to the write of the response's {@link LastHttpContent}. Sits between
 * the idle handler and the proxy handler in the client pipeline and passes every message through
 * untouched; it owns no message, so it releases none.
 *
 * <p>Pipelined requests (RFC 9112 section 9.3.2) are answered in order, so start times are kept in
 * a small FIFO ring: the head of the ring belongs to the response being written. Interim 1xx
 * responses (RFC 9110 section 15.2) precede the final one and end nothing. Requests still open when
 * the connection closes count as {@code aborted}.
 *
 * <p>Not thread safe: one instance per channel, confined to its event loop. Allocation per request:
 * none (the ring grows only when a client pipelines deeper than it has before).
 */
public final class MetricsHandler extends ChannelDuplexHandler {
    private final RequestMetrics metrics;
    private long[] starts = new long[4];
    private int head;
    private int size;
    /** Status class of the final response being written for the head request, 0 when none yet. */
    private int responseClass = RequestMetrics.NO_RESPONSE;

    public MetricsHandler(RequestMetrics metrics) {
        this.metrics = requireNonNull(metrics, "metrics");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            push(System.nanoTime());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean interim = false;
        if (msg instanceof HttpResponse) {
            HttpResponseStatus status = ((HttpResponse) msg).status();
            int code = status.code();
            interim = code >= 100 && code < 200 && code != HttpResponseStatus.SWITCHING_PROTOCOLS.code();
            if (!interim) {
                responseClass = RequestMetrics.statusClass(code);
            }
        }
        if (!interim && msg instanceof LastHttpContent && responseClass != RequestMetrics.NO_RESPONSE) {
            long start = pop();
            metrics.completed(responseClass, start < 0 ? -1 : System.nanoTime() - start);
            responseClass = RequestMetrics.NO_RESPONSE;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (size > 0) {
            metrics.aborted(responseClass);
            for (int i = 1; i < size; i++) {
                metrics.aborted(RequestMetrics.NO_RESPONSE);
            }
            size = 0;
        }
        responseClass = RequestMetrics.NO_RESPONSE;
        ctx.fireChannelInactive();
    }

    private void push(long nanos) {
        if (size == starts.length) {
            long[] bigger = new long[starts.length * 2];
            for (int i = 0; i < size; i++) {
                bigger[i] = starts[(head + i) % starts.length];
            }
            starts = bigger;
            head = 0;
        }
        starts[(head + size) % starts.length] = nanos;
        size++;
    }

    /** The oldest open request's start, or -1 when a response has no request (never timed). */
    private long pop() {
        if (size == 0) {
            return -1;
        }
        long start = starts[head];
        head = (head + 1) % starts.length;
        size--;
        return start;
    }
}
