package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.fulcrum.node.post.InvalidInputException;
import io.fulcrum.node.post.PostService;
import io.fulcrum.node.store.ClientPosition;
import io.fulcrum.node.store.StoreHealth;
import io.fulcrum.node.store.StoreOverloadedException;
import io.fulcrum.node.store.StoreWorkers;
import io.fulcrum.node.store.WriteResult;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What each route does: reads the request's headers, query and body, calls {@link PostService}, and
 * turns the outcome into an {@link ApiResponse}. I/O mapping only; the rules live in the service.
 *
 * <p>Thread-safe. {@link #handle} runs on the event loop and reads the request synchronously (the
 * caller releases it when {@code handle} returns); the returned future completes on a store worker.
 */
public final class PostRoutes {
    private static final Pattern ENTITY_TAG = Pattern.compile("\\s*\"(\\d{1,18})\"\\s*");
    private static final String ETAG = HttpHeaderNames.ETAG.toString();
    private static final String CACHE_CONTROL = HttpHeaderNames.CACHE_CONTROL.toString();

    private final PostService service;
    private final JsonCodec json;
    private final StaticAssets assets;
    private final NodeMetrics metrics;
    private final StoreWorkers workers;
    private final String nodeId;
    private final String region;

    /** Creates the routes of the node {@code nodeId} in {@code region}. */
    public PostRoutes(PostService service, JsonCodec json, StaticAssets assets, NodeMetrics metrics,
            StoreWorkers workers, String nodeId, String region) {
        this.service = requireNonNull(service, "service");
        this.json = requireNonNull(json, "json");
        this.assets = requireNonNull(assets, "assets");
        this.metrics = requireNonNull(metrics, "metrics");
        this.workers = requireNonNull(workers, "workers");
        this.nodeId = requireNonNull(nodeId, "nodeId");
        this.region = requireNonNull(region, "region");
    }

    /** Serves one matched request. */
    public CompletableFuture<ApiResponse> handle(ApiRouter.Found found, FullHttpRequest request, QueryStringDecoder uri) {
        switch (found.route()) {
            case CREATE_POST:
            case GET_POST:
            case UPDATE_POST:
            case DELETE_POST:
            case TIMELINE:
                ConsistencyTokens.Token token = ConsistencyTokens.of(request.headers());
                return posts(found, request, uri, token.position())
                        .thenApply(response -> ConsistencyTokens.stamp(response, token));
            default:
                return other(found);
        }
    }

    /** The post API; {@code position} carries the client's consistency token in and the next one out. */
    private CompletableFuture<ApiResponse> posts(ApiRouter.Found found, FullHttpRequest request, QueryStringDecoder uri,
            ClientPosition position) {
        switch (found.route()) {
            case CREATE_POST:
                return create(request, position);
            case GET_POST:
                return service.get(found.postId(), position).thenApply(post -> post
                        .map(p -> ApiResponse.json(HttpResponseStatus.OK, json.post(p),
                                Map.of(ETAG, p.etag(), CACHE_CONTROL, "no-cache")))
                        .orElseGet(() -> notFound(found.postId())));
            case UPDATE_POST:
                requireJson(request);
                String text = json.readEdit(request.content());
                return service.update(found.postId(), text, ifMatch(request), position)
                        .thenApply(r -> written(found.postId(), r, HttpResponseStatus.OK));
            case DELETE_POST:
                return service.delete(found.postId(), ifMatch(request), position)
                        .thenApply(r -> written(found.postId(), r, HttpResponseStatus.NO_CONTENT));
            case TIMELINE:
                return service.timeline(param(uri, "author"), intParam(uri, "limit"), param(uri, "cursor"), position)
                        .thenApply(page -> {
                            byte[] body = json.page(page);
                            // no-cache: a browser may keep the page but must revalidate it each time,
                            // which is what makes polling cheap (a 304 carries no body).
                            return ApiResponse.json(HttpResponseStatus.OK, body,
                                    Map.of(ETAG, Conditional.etagOf(body), CACHE_CONTROL, "no-cache"));
                        });
            default:
                throw new IllegalStateException("not a post route: " + found.route());
        }
    }

    private CompletableFuture<ApiResponse> other(ApiRouter.Found found) {
        switch (found.route()) {
            case HEALTH:
                return health();
            case PAGE:
                return asset("index.html");
            case ASSET:
                return asset(found.asset());
            case EVENTS:
                // A HEAD (a GET becomes a stream before it gets here): the head of a stream, no body.
                return CompletableFuture.completedFuture(new ApiResponse(HttpResponseStatus.OK,
                        "text/event-stream; charset=utf-8", new byte[0],
                        Map.of(HttpHeaderNames.CACHE_CONTROL.toString(), "no-store")));
            default:
                throw new IllegalStateException("unrouted " + found.route());
        }
    }

    private CompletableFuture<ApiResponse> create(FullHttpRequest request, ClientPosition position) {
        requireJson(request);
        JsonCodec.NewPostBody body = json.readNewPost(request.content());
        String key = request.headers().get("Idempotency-Key");
        return service.create(body.author(), body.text(), key, position).thenApply(result -> {
            var post = result.post();
            // A replay answers 200, not 201: nothing was created this time.
            return ApiResponse.json(result.created() ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
                    json.post(post), Map.of(HttpHeaderNames.LOCATION.toString(), "/posts/" + post.id(), ETAG,
                            post.etag()));
        });
    }

    private ApiResponse written(long id, WriteResult result, HttpResponseStatus success) {
        switch (result.status()) {
            case NOT_FOUND:
                return notFound(id);
            case VERSION_MISMATCH:
                return ApiResponse.json(ApiError.PRECONDITION_FAILED.status(),
                        json.error(ApiError.PRECONDITION_FAILED, "post " + id + " is at version "
                                + result.post().version() + ", not the one in If-Match", "If-Match"),
                        Map.of(ETAG, result.post().etag()));
            default:
                if (success == HttpResponseStatus.NO_CONTENT) {
                    return ApiResponse.empty(success);
                }
                return ApiResponse.json(success, json.post(result.post()), Map.of(ETAG, result.post().etag()));
        }
    }

    private CompletableFuture<ApiResponse> health() {
        // Sampled before the probe's own store call, which would otherwise count as load.
        double load = workers.load();
        int inFlight = metrics.inFlight() - 1; // not counting this probe
        return service.ping().handle((ok, failure) -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            StoreHealth replication = service.storeHealth().orElse(null);
            if (cause == null && replication != null && replication.stale()) {
                // The replica lags past max-lag: not ready, so the balancer routes around this copy.
                return healthResponse(HttpResponseStatus.SERVICE_UNAVAILABLE, "STALE", inFlight, 1.0, replication);
            }
            if (cause == null) {
                return healthResponse(HttpResponseStatus.OK, "UP", inFlight, load, replication);
            }
            if (cause instanceof StoreOverloadedException) {
                // Alive but saturated: the balancer should prefer other nodes, not mark this one down.
                return healthResponse(HttpResponseStatus.OK, "UP", inFlight, 1.0, replication);
            }
            return healthResponse(HttpResponseStatus.SERVICE_UNAVAILABLE, "DOWN", inFlight, load, replication);
        });
    }

    private ApiResponse healthResponse(HttpResponseStatus status, String state, int inFlight, double load,
            StoreHealth replication) {
        return ApiResponse.json(status, json.health(state, nodeId, region, Math.max(0, inFlight), load, replication),
                Map.of(HttpHeaderNames.CACHE_CONTROL.toString(), "no-store"));
    }

    private CompletableFuture<ApiResponse> asset(String name) {
        StaticAssets.Asset a = assets.get(name);
        return CompletableFuture.completedFuture(new ApiResponse(HttpResponseStatus.OK, a.contentType(), a.body(),
                Map.of(HttpHeaderNames.CACHE_CONTROL.toString(), "no-cache")));
    }

    private ApiResponse notFound(long id) {
        return ApiResponse.json(ApiError.NOT_FOUND.status(),
                json.error(ApiError.NOT_FOUND, "no post with id " + id, null), Map.of());
    }

    /** Bodies must be declared as JSON (RFC 9110 section 15.5.16: else 415). */
    private static void requireJson(FullHttpRequest request) {
        CharSequence mime = HttpUtil.getMimeType(request);
        if (mime == null || !HttpHeaderValues.APPLICATION_JSON.contentEqualsIgnoreCase(mime.toString().trim())) {
            throw new UnsupportedMediaTypeException(mime == null ? "(none)" : mime.toString());
        }
    }

    /**
     * The version named by {@code If-Match}: empty when absent or {@code *}. Only strong tags of this
     * API ({@code "7"}) can match (RFC 9110 section 13.1.1); anything else names no current version,
     * so it yields -1, which never matches and ends in 412.
     */
    private static OptionalLong ifMatch(FullHttpRequest request) {
        String value = request.headers().get(HttpHeaderNames.IF_MATCH);
        if (value == null || value.trim().equals("*")) {
            return OptionalLong.empty();
        }
        String first = value.split(",")[0];
        Matcher m = ENTITY_TAG.matcher(first);
        return OptionalLong.of(m.matches() ? Long.parseLong(m.group(1)) : -1);
    }

    private static String param(QueryStringDecoder uri, String name) {
        List<String> values = uri.parameters().get(name);
        if (values == null || values.isEmpty() || values.get(0).isEmpty()) {
            return null;
        }
        return values.get(0);
    }

    private static Integer intParam(QueryStringDecoder uri, String name) {
        String value = param(uri, name);
        if (value == null) {
            return null;
        }
        try {
            return Integer.valueOf(value);
        } catch (NumberFormatException e) {
            throw new InvalidInputException(name, "must be an integer");
        }
    }

    /** The request body is not declared as JSON. */
    public static final class UnsupportedMediaTypeException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnsupportedMediaTypeException(String type) {
            super("expected Content-Type application/json, got " + type, null, false, false);
        }
    }
}
