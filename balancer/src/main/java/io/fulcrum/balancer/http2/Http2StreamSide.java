package io.fulcrum.balancer.http2;

import io.fulcrum.balancer.edge.DeadlineTimer;
import io.fulcrum.balancer.edge.ErrorResponses;
import io.fulcrum.balancer.edge.RequestValidator;
import io.fulcrum.balancer.exchange.ClientSide;
import io.fulcrum.balancer.exchange.Exchange;
import io.fulcrum.balancer.exchange.RequestIntake;
import io.fulcrum.balancer.exchange.TunnelSide;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One HTTP/2 stream of an {@link Http2Frontend} connection: its request, handed to an
 * {@link Exchange}, and the exchange's way back to the client ({@link ClientSide}).
 *
 * <p>Request DATA goes to the exchange while its backend connection can take it, and is then
 * acknowledged to the client; DATA that arrives while the backend cannot take it waits here,
 * unacknowledged, so the stream's window bounds it. The response head is held until its first
 * part (or a flush), so that a bodyless response is one HEADERS frame. A stream offers no
 * {@link TunnelSide}: HTTP/2 carries no upgrades ({@code Connection} and {@code Upgrade} are
 * refused by its decoder, RFC 9113 section 8.2.2, and there is no RFC 8441 extended CONNECT).
 *
 * <p>Not thread safe: confined to the connection's event loop.
 */
final class Http2StreamSide implements ClientSide, RequestIntake.Answers {
    private final Http2Frontend connection;
    private final Http2Stream stream;
    private Exchange exchange;
    /** Request parts not yet given to the exchange (nor acknowledged), or {@code null} when none waited yet. */
    private ArrayDeque<HttpContent> held;
    /** The response head, written with the next part or flush. */
    private HttpResponse head;
    /** The write of the response's end, or {@code null} before it. */
    private ChannelFuture ended;
    private boolean requestEnded;
    /** The response's end is written (or the stream reset by us): the stream's close cancels nothing. */
    private boolean responseEnded;
    private boolean flushQueued;

    Http2StreamSide(Http2Frontend connection, Http2Stream stream) {
        this.connection = connection;
        this.stream = stream;
    }

    /** The exchange in progress, or {@code null}. */
    Exchange exchange() {
        return exchange;
    }

    void onRequestHead(HttpRequest request, boolean endOfStream) {
        requestEnded = endOfStream;
        Exchange ex = connection.intake().admit(request, this, null, connection.context().alloc(), this);
        if (ex == null) {
            return;
        }
        exchange = ex;
        if (endOfStream) {
            // A request without a body is complete with its head: the exchange has all of it
            // before it chooses a backend, and a pooled connection sends it in one go.
            ex.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        ex.start();
        backendWritten();
    }

    /**
     * A DATA frame (not owned).
     *
     * @return the bytes to acknowledge now
     */
    int onData(ByteBuf data, boolean endOfStream) {
        int bytes = data.readableBytes();
        if (endOfStream) {
            requestEnded = true;
        }
        Exchange ex = exchange;
        if (ex == null || ex.isDone()) {
            // Answered already: the rest of the request is dropped.
            return bytes;
        }
        data.retain();
        return onRequestContent(endOfStream ? new DefaultLastHttpContent(data) : new DefaultHttpContent(data), bytes);
    }

    /**
     * A request part, passed on now if the backend can take it, else held unacknowledged.
     *
     * @return the bytes to acknowledge now
     */
    int onRequestContent(HttpContent part, int bytes) {
        if (part instanceof LastHttpContent) {
            requestEnded = true;
        }
        Exchange ex = exchange;
        if (ex == null || ex.isDone()) {
            part.release();
            return bytes;
        }
        if ((held == null || held.isEmpty()) && ex.wantsRequestData()) {
            ex.onRequestContent(part);
            backendWritten();
            return bytes;
        }
        if (held == null) {
            held = new ArrayDeque<>(4);
        }
        held.add(part);
        return 0;
    }

    private void backendWritten() {
        if (exchange == null) {
            return;
        }
        if (!connection.inReadBatch()) {
            exchange.flushToBackend();
        } else if (!flushQueued) {
            flushQueued = true;
            connection.flushBackendLater(this);
        }
    }

    /** At the end of a read batch: what the exchange wrote to its backend goes out. */
    void flushToBackend() {
        flushQueued = false;
        Exchange ex = exchange;
        if (ex != null) {
            ex.flushToBackend();
        }
    }

    /** The stream closed (ended both ways, reset by either side, or the connection closed). */
    void onStreamClosed() {
        releaseHeld();
        head = null;
        Exchange ex = exchange;
        if (ex != null && !responseEnded) {
            // Reset by the client (or the connection lost) before the response ended.
            ex.onClientClosed();
        }
    }

    void onWritabilityChanged() {
        Exchange ex = exchange;
        if (ex != null && isWritable()) {
            ex.onClientWritable();
        }
    }

    private void releaseHeld() {
        if (held == null) {
            return;
        }
        HttpContent part;
        while ((part = held.poll()) != null) {
            int bytes = part.content().readableBytes();
            part.release();
            connection.consume(stream, bytes);
        }
    }

    // ---- ClientSide ----

    @Override
    public EventLoop eventLoop() {
        return connection.context().channel().eventLoop();
    }

    @Override
    public boolean isWritable() {
        return stream.state() != Http2Stream.State.CLOSED && connection.isWritable(stream);
    }

    @Override
    public boolean inReadBatch() {
        return connection.inReadBatch();
    }

    /** The backend can take more: held request parts go to it and are acknowledged. */
    @Override
    public void readRequest() {
        if (held == null || held.isEmpty()) {
            return;
        }
        boolean passed = false;
        HttpContent part;
        while (exchange != null && !exchange.isDone() && exchange.wantsRequestData() && (part = held.poll()) != null) {
            int bytes = part.content().readableBytes();
            exchange.onRequestContent(part);
            connection.consume(stream, bytes);
            passed = true;
        }
        if (passed) {
            backendWritten();
            connection.flushSoon();
        }
    }

    @Override
    public void writeResponse(HttpObject part) {
        if (stream.state() == Http2Stream.State.CLOSED) {
            ReferenceCountUtil.release(part);
            return;
        }
        if (part instanceof HttpResponse) {
            head = (HttpResponse) part;
        }
        if (!(part instanceof HttpContent)) {
            return;
        }
        HttpContent content = (HttpContent) part;
        ByteBuf data = content.content();
        boolean last = content instanceof LastHttpContent;
        HttpHeaders trailers = last ? ((LastHttpContent) content).trailingHeaders() : null;
        boolean hasTrailers = trailers != null && !trailers.isEmpty();
        if (head != null) {
            boolean headOnly = last && !data.isReadable() && !hasTrailers;
            writeHead(headOnly);
            if (headOnly) {
                data.release();
                return;
            }
        }
        ChannelHandlerContext ctx = connection.context();
        if (hasTrailers) {
            if (data.isReadable()) {
                connection.encoder().writeData(ctx, stream.id(), data, 0, false, ctx.voidPromise());
            } else {
                data.release();
            }
            responseEnded = true;
            ended = connection.encoder().writeHeaders(ctx, stream.id(), Http2Messages.trailers(trailers), 0, true,
                    endPromise());
        } else if (last) {
            responseEnded = true;
            ended = connection.encoder().writeData(ctx, stream.id(), data, 0, true, endPromise());
        } else if (data.isReadable()) {
            connection.encoder().writeData(ctx, stream.id(), data, 0, false, ctx.voidPromise());
        } else {
            data.release();
        }
    }

    private void writeHead(boolean endOfStream) {
        Http2Headers headers = Http2Messages.responseHeaders(head);
        head = null;
        ChannelHandlerContext ctx = connection.context();
        if (!endOfStream) {
            connection.encoder().writeHeaders(ctx, stream.id(), headers, 0, false, ctx.voidPromise());
            return;
        }
        responseEnded = true;
        ended = connection.encoder().writeHeaders(ctx, stream.id(), headers, 0, true, endPromise());
    }

    /** The promise of the response's last frame: a real one only when a request body is still coming. */
    private ChannelPromise endPromise() {
        ChannelHandlerContext ctx = connection.context();
        return requestEnded ? ctx.voidPromise() : ctx.newPromise();
    }

    @Override
    public void writeInterim(HttpResponse interim) {
        ChannelHandlerContext ctx = connection.context();
        connection.encoder().writeHeaders(ctx, stream.id(), new DefaultHttp2Headers(false, 1)
                .status(interim.status().codeAsText()), 0, false, ctx.voidPromise());
        connection.flushSoon();
    }

    @Override
    public void flushToClient() {
        if (head != null && stream.state() != Http2Stream.State.CLOSED) {
            // A head whose body is slow to come (an event stream) goes out now.
            writeHead(false);
        }
        connection.flushSoon();
    }

    /** The response broke after it began: the stream is reset, which the client sees as an error. */
    @Override
    public void abortResponse(Exchange ex) {
        head = null;
        if (stream.state() != Http2Stream.State.CLOSED) {
            // The exchange ends itself; the stream's close must not cancel it again.
            responseEnded = true;
            connection.reset(stream, Http2Error.INTERNAL_ERROR);
        }
    }

    @Override
    public void writeError(Exchange ex, HttpResponseStatus status, String message, boolean close, boolean retryAfter) {
        FullHttpResponse response = ErrorResponses.json(connection.context().alloc(), status, message, ex.requestId(),
                false);
        if (retryAfter) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        String decision = ex.decisionForClient();
        if (decision != null) {
            response.headers().set(Exchange.DECISION_HEADER, decision);
        }
        writeWhole(response);
    }

    @Override
    public void refuse(HttpRequest request, String requestId, RequestValidator.Rejection rejection,
            String retryAfter) {
        FullHttpResponse response = ErrorResponses.json(connection.context().alloc(), rejection.status(),
                rejection.message(), requestId, false);
        if (retryAfter != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        writeWhole(response);
        endedEarly();
    }

    @Override
    public void answerLocally(HttpRequest request, FullHttpResponse response) {
        writeWhole(response);
        endedEarly();
    }

    @Override
    public void writeAnswer(Exchange ex, FullHttpResponse answer, boolean close) {
        writeWhole(answer);
    }

    /** Writes a response of the balancer's own, head and body, and flushes it. */
    private void writeWhole(FullHttpResponse response) {
        if (stream.state() == Http2Stream.State.CLOSED) {
            response.release();
            return;
        }
        head = response;
        writeResponse(new DefaultLastHttpContent(response.content()));
        connection.flushSoon();
    }

    @Override
    public DeadlineTimer responseTimer() {
        return connection.responseTimer();
    }

    @Override
    public void exchangeDone(Exchange ex) {
        if (exchange != ex) {
            return;
        }
        exchange = null;
        endedEarly();
        connection.flushSoon();
    }

    /**
     * The response is complete or the request answered: request parts still held are dropped, and
     * a request still coming is stopped once the response is out (RST_STREAM NO_ERROR, RFC 9113
     * section 8.1).
     */
    private void endedEarly() {
        releaseHeld();
        if (requestEnded || stream.state() == Http2Stream.State.CLOSED) {
            return;
        }
        if (ended == null || ended.isVoid()) {
            connection.reset(stream, Http2Error.CANCEL);
        } else {
            ended.addListener((ChannelFutureListener) written -> {
                if (stream.state() != Http2Stream.State.CLOSED) {
                    connection.reset(stream, Http2Error.NO_ERROR);
                }
            });
        }
    }
}
