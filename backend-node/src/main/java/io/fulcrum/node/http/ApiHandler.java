package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.fulcrum.node.post.IdempotencyKeyReusedException;
import io.fulcrum.node.post.InvalidInputException;
import io.fulcrum.node.store.PrimaryUnavailableException;
import io.fulcrum.node.store.StoreOverloadedException;
import io.fulcrum.node.store.StoreUnavailableException;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The terminal handler of a connection: routes each aggregated request, hands it to
 * {@link PostRoutes} and writes the answer.
 *
 * <p>The body is decoded on the event loop and the request is released when {@code channelRead0}
 * returns (it is a {@link SimpleChannelInboundHandler}); only plain Java values reach the store
 * workers. Answers complete on worker threads and are handed back to the event loop with
 * {@code ctx.executor().execute}, where they are written in request order: HTTP/1.1 pipelining
 * requires responses in the order the requests arrived (RFC 9112 section 9.3.2), while store calls
 * may finish in any order.
 *
 * <p>One instance per channel; its fields are confined to the channel's event loop.
 */
public final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    private static final String ETAG = HttpHeaderNames.ETAG.toString();
    private static final String CACHE_CONTROL = HttpHeaderNames.CACHE_CONTROL.toString();

    private final ApiRouter router;
    private final PostRoutes routes;
    private final JsonCodec json;
    private final NodeMetrics metrics;
    private final EventFeed feed;
    /** Requests of this connection whose response is not written yet, oldest first. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** Set once a response closes the connection; later answers are dropped. */
    private boolean closing;
    /** The connection carries an event stream: it answers nothing else. */
    private boolean streaming;

    /** Creates the handler for one connection. */
    public ApiHandler(ApiRouter router, PostRoutes routes, JsonCodec json, NodeMetrics metrics, EventFeed feed) {
        this.router = requireNonNull(router, "router");
        this.routes = requireNonNull(routes, "routes");
        this.json = requireNonNull(json, "json");
        this.metrics = requireNonNull(metrics, "metrics");
        this.feed = requireNonNull(feed, "feed");
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (streaming) {
            // A request behind an event stream can never be answered in order (RFC 9112 section 9.3.2).
            ctx.close();
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (request.decoderResult().isFailure()) {
            Pending p = start(ApiRoute.UNMATCHED, request, false);
            complete(ctx, p, error(ApiError.BAD_REQUEST, "the request could not be parsed", null));
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        ApiRouter.Match match = router.match(request.method(), uri.path());
        if (match instanceof ApiRouter.Found found && found.route() == ApiRoute.EVENTS
                && HttpMethod.GET.equals(request.method())) {
            startStream(ctx, request, uri);
            return;
        }
        if (match instanceof ApiRouter.Found found) {
            Pending p = start(found.route(), request, keepAlive);
            CompletableFuture<ApiResponse> answer;
            try {
                answer = routes.handle(found, request, uri);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            answer.whenComplete((response, failure) -> {
                ApiResponse r = failure == null ? response : toError(failure);
                try {
                    ctx.executor().execute(() -> complete(ctx, p, r));
                } catch (RejectedExecutionException e) {
                    // The event loop is shutting down with the server; the connection is gone anyway.
                    log.debug("Dropped a response while shutting down", e);
                }
            });
            return;
        }
        Pending p = start(ApiRoute.UNMATCHED, request, keepAlive);
        if (match instanceof ApiRouter.MethodNotAllowed notAllowed) {
            complete(ctx, p, ApiResponse.json(ApiError.METHOD_NOT_ALLOWED.status(),
                    json.error(ApiError.METHOD_NOT_ALLOWED, request.method() + " is not allowed here", null),
                    Map.of(HttpHeaderNames.ALLOW.toString(), notAllowed.allow())));
        } else {
            complete(ctx, p, error(ApiError.NOT_FOUND, "no route for " + uri.path(), null));
        }
    }

    /**
     * {@code GET /events}: the connection becomes an event stream, registered with the node's feed,
     * which writes the response head once the stream is registered and every event after. Refused
     * with 503 past {@code events.max-streams}, and with 400 behind other requests still unanswered
     * on this connection (pipelined), whose answers must come first.
     */
    private void startStream(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri) {
        if (!pending.isEmpty()) {
            Pending p = start(ApiRoute.EVENTS, request, false);
            complete(ctx, p, error(ApiError.BAD_REQUEST, "an event stream cannot be pipelined behind other requests",
                    null));
            return;
        }
        if (!feed.tryReserve()) {
            Pending p = start(ApiRoute.EVENTS, request, HttpUtil.isKeepAlive(request));
            complete(ctx, p, ApiResponse.json(ApiError.OVERLOADED.status(), json.error(ApiError.OVERLOADED,
                    "this node holds its limit of event streams (events.max-streams); try again or poll /timeline",
                    null), Map.of(HttpHeaderNames.RETRY_AFTER.toString(), "5")));
            return;
        }
        streaming = true;
        EventStream stream = new EventStream(ctx.channel(), json.error(ApiError.STORE_UNAVAILABLE,
                "the post store cannot be reached", null));
        ctx.channel().closeFuture().addListener(f -> feed.release(stream));
        feed.subscribe(stream, lastEventId(request, uri));
    }

    /**
     * The id of the last event the client saw: the {@code Last-Event-ID} header that a reconnecting
     * EventSource sends, or the {@code lastEventId} query parameter of a page that opens a new
     * one; -1 when absent or not a seq.
     */
    private static long lastEventId(FullHttpRequest request, QueryStringDecoder uri) {
        String value = request.headers().get("Last-Event-ID");
        if (value == null) {
            var values = uri.parameters().get("lastEventId");
            value = values == null || values.isEmpty() ? null : values.get(0);
        }
        if (value == null || value.isEmpty() || value.length() > 18
                || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return Long.parseLong(value);
    }

    private Pending start(ApiRoute route, FullHttpRequest request, boolean keepAlive) {
        HttpMethod method = request.method();
        boolean head = HttpMethod.HEAD.equals(method);
        String ifNoneMatch = head || HttpMethod.GET.equals(method)
                ? request.headers().get(HttpHeaderNames.IF_NONE_MATCH) : null;
        Pending p = new Pending(new Request(route, method.name(), keepAlive, System.nanoTime(), head, ifNoneMatch));
        metrics.started();
        pending.add(p);
        return p;
    }

    /** Records the answer of {@code p} and writes every answer that is now next in line. */
    private void complete(ChannelHandlerContext ctx, Pending p, ApiResponse response) {
        p.response = response;
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peek().response != null) {
            Pending next = pending.poll();
            Request asked = next.request;
            metrics.finished(asked.route(), asked.method(), wireStatus(next), System.nanoTime() - asked.started());
            if (closing || !ctx.channel().isActive()) {
                continue;
            }
            FullHttpResponse out = toNetty(next);
            String connection = next.response.headers().get(HttpHeaderNames.CONNECTION.toString());
            if (asked.keepAlive() && !"close".equals(connection)) {
                ctx.write(out);
            } else {
                out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
                closing = true;
            }
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    /**
     * The wire form of {@code p}'s answer. A 200 whose ETag matches the request's If-None-Match becomes
     * a 304 with the validator headers only (RFC 9110 section 15.4.5). A HEAD answer carries the
     * headers of the GET, Content-Length included, and no body (RFC 9110 section 9.3.2); the codec
     * knows the request was a HEAD and writes no content.
     */
    private static boolean notModified(Pending p) {
        return p.response.status().code() == 200
                && Conditional.notModified(p.request.ifNoneMatch(), p.response.headers().get(ETAG));
    }

    /** The status that goes on the wire (and into the metrics): 304 where a conditional GET matched. */
    private static int wireStatus(Pending p) {
        return notModified(p) ? HttpResponseStatus.NOT_MODIFIED.code() : p.response.status().code();
    }

    private static FullHttpResponse toNetty(Pending p) {
        ApiResponse r = p.response;
        String etag = r.headers().get(ETAG);
        if (notModified(p)) {
            FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
                    Unpooled.EMPTY_BUFFER);
            out.headers().set(HttpHeaderNames.ETAG, etag);
            String cacheControl = r.headers().get(CACHE_CONTROL);
            if (cacheControl != null) {
                out.headers().set(HttpHeaderNames.CACHE_CONTROL, cacheControl);
            }
            return out;
        }
        boolean empty = p.request.head() || r.body().length == 0;
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, r.status(),
                empty ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(r.body()));
        if (r.contentType() != null) {
            out.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        }
        out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        r.headers().forEach((name, value) -> out.headers().set(name, value));
        return out;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Disconnect.afterError(ctx, cause, log, ctx.channel().id().asShortText());
    }

    private ApiResponse toError(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof InvalidInputException e) {
            return error(ApiError.INVALID_FIELD, e.field() + " " + e.getMessage(), e.field());
        }
        if (cause instanceof IdempotencyKeyReusedException e) {
            return error(ApiError.IDEMPOTENCY_KEY_REUSED, e.getMessage(), "Idempotency-Key");
        }
        if (cause instanceof JsonCodec.UnknownFieldException e) {
            return error(ApiError.UNKNOWN_FIELD, e.getMessage(), e.field());
        }
        if (cause instanceof JsonCodec.BadJsonException e) {
            return error(ApiError.BAD_JSON, e.getMessage(), null);
        }
        if (cause instanceof PostRoutes.UnsupportedMediaTypeException e) {
            return error(ApiError.UNSUPPORTED_MEDIA_TYPE, e.getMessage(), null);
        }
        if (cause instanceof StoreOverloadedException e) {
            return ApiResponse.json(ApiError.OVERLOADED.status(), json.error(ApiError.OVERLOADED,
                    "the node is busy: " + e.getMessage(), null), Map.of(HttpHeaderNames.RETRY_AFTER.toString(), "1"));
        }
        if (cause instanceof PrimaryUnavailableException e) {
            log.warn("Primary unavailable: {}", e.getMessage());
            return ApiResponse.json(ApiError.PRIMARY_UNAVAILABLE.status(), json.error(ApiError.PRIMARY_UNAVAILABLE,
                    "the primary database cannot be reached; writes, and reads only it can serve, resume when"
                            + " it answers", null),
                    Map.of(HttpHeaderNames.RETRY_AFTER.toString(), "2"));
        }
        if (cause instanceof StoreUnavailableException e) {
            log.warn("Store unavailable: {}", e.getMessage());
            return ApiResponse.json(ApiError.STORE_UNAVAILABLE.status(), json.error(ApiError.STORE_UNAVAILABLE,
                    "the post store cannot be reached", null), Map.of(HttpHeaderNames.RETRY_AFTER.toString(), "1"));
        }
        log.error("Unexpected failure while serving a request", cause);
        return error(ApiError.INTERNAL, "internal error", null);
    }

    private ApiResponse error(ApiError error, String detail, String field) {
        return ApiResponse.json(error.status(), json.error(error, detail, field), Map.of());
    }

    /**
     * What writing a request's answer needs of the request, taken when it arrived.
     *
     * @param ifNoneMatch the request's If-None-Match, kept for GET and HEAD only; null when absent
     */
    private record Request(ApiRoute route, String method, boolean keepAlive, long started, boolean head,
            String ifNoneMatch) {
    }

    /** One request waiting for its turn to be answered, and its answer once it has one. Confined to the event loop. */
    private static final class Pending {
        final Request request;
        ApiResponse response;

        Pending(Request request) {
            this.request = request;
        }
    }
}
