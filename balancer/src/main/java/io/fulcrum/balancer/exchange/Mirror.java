package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.LoadBalancer;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.config.MirrorConfig;
import io.fulcrum.balancer.metrics.RequestMetrics;
import io.fulcrum.balancer.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The copy of one request to a route's shadow pool ({@code mirror}), fire and forget: the head as
 * the backends get it and the body as the client sends it, kept up to {@code max-body-bytes} (a
 * longer body is not copied, and counted), sent once the client's request is whole, to one backend
 * of the shadow pool chosen by its policy, without a queue or a retry. The shadow's answer is read
 * and dropped; a failure, or no answer within the shadow pool's {@code timeouts.response}, only
 * closes the copy's connection and is counted. Nothing here reaches the client's exchange: the
 * copy has its own {@link UpstreamTry}, whose outcome the shadow backend's live state hears.
 *
 * <p>Not thread safe: confined to the client connection's event loop, which also runs the copy's
 * backend connection.
 */
final class Mirror implements UpstreamTry.Listener {
    /** How a copy ended, the {@code result} of {@code fulcrum_mirror_requests_total}. */
    static final String ANSWERED = "answered";
    static final String FAILED = "failed";
    static final String TOO_LARGE = "too-large";
    static final String NO_BACKEND = "no-backend";
    static final String CANCELLED = "cancelled";
    static final List<String> RESULTS = List.of(ANSWERED, FAILED, TOO_LARGE, NO_BACKEND, CANCELLED);

    private final ProxyContext proxy;
    private final BackendPool pool;
    private final String route;
    private final HttpRequest head;
    private final EventLoop loop;
    private final long maxBodyBytes;
    private final ReplayBuffer body = new ReplayBuffer(Long.MAX_VALUE);
    private long bytes;
    private UpstreamTry upstream;
    private ScheduledFuture<?> timeout;
    /** Whether the copy went out or was given up: later body parts are not kept. */
    private boolean sending;
    private boolean ended;

    private Mirror(ProxyContext proxy, BackendPool pool, String route, HttpRequest head, EventLoop loop,
            long maxBodyBytes) {
        this.proxy = proxy;
        this.pool = pool;
        this.route = route;
        this.head = head;
        this.loop = loop;
        this.maxBodyBytes = maxBodyBytes;
    }

    /**
     * A copy of {@code request}, rewritten for the backends, when its route's {@code percent} draws
     * it; else {@code null}.
     */
    static Mirror sample(Route<BackendPool> route, HttpRequest request, ProxyContext proxy, EventLoop loop) {
        MirrorConfig config = route.mirror();
        if (config.percent() < 100 && ThreadLocalRandom.current().nextDouble() * 100 >= config.percent()) {
            return null;
        }
        HttpRequest copy = new DefaultHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                request.headers().copy());
        return new Mirror(proxy, route.mirrorPool(), route.name(), copy, loop, config.maxBodyBytes());
    }

    /** A part of the client's request body; the caller keeps it, the copy takes a duplicate. */
    void onRequestBody(HttpContent part) {
        if (sending) {
            return;
        }
        bytes += part.content().readableBytes();
        if (bytes > maxBodyBytes) {
            end(TOO_LARGE);
            return;
        }
        body.add(part.retainedDuplicate());
        if (part instanceof LastHttpContent) {
            sending = true;
            // After the client's own request went out in this turn of the loop.
            loop.execute(this::send);
        }
    }

    /** The client's exchange ended: a copy still waiting for the body is dropped. */
    void onExchangeEnd() {
        if (!sending) {
            end(CANCELLED);
        }
    }

    private void send() {
        if (ended) {
            return;
        }
        LoadBalancer lb = pool.registry().current().loadBalancer();
        Backend chosen = lb.select(RequestInfo.DEFAULT);
        if (chosen == null || !chosen.tryAcquire()) {
            end(NO_BACKEND);
            return;
        }
        upstream = new UpstreamTry(chosen, pool, proxy, this, proxy.clock().nanoTime());
        timeout = loop.schedule(this::timedOut, pool.settings().responseTimeoutNanos(), TimeUnit.NANOSECONDS);
        upstream.connect(loop, false);
    }

    private void timedOut() {
        timeout = null;
        fail(Outcome.TIMEOUT);
    }

    @Override
    public void onConnected(UpstreamTry t, long nowNanos) {
        if (!head.headers().contains(HttpHeaderNames.HOST)) {
            head.headers().set(HttpHeaderNames.HOST, t.backend().config().authority());
        }
        t.write(head, body, true);
        // Written as duplicates: the copy is never sent again.
        body.release();
        t.sent(nowNanos);
        t.read();
    }

    @Override
    public void onFailed(UpstreamTry t, Outcome outcome, String detail) {
        fail(outcome);
    }

    @Override
    public void onInterim(UpstreamTry t, HttpResponse interim) {
        // Read on: the final answer follows.
    }

    @Override
    public void onHead(UpstreamTry t, HttpResponse head) {
        if (head.status().code() == 101) {
            fail(Outcome.MALFORMED);
        }
    }

    @Override
    public void onBody(UpstreamTry t, HttpContent part) {
        part.release();
        if (part instanceof LastHttpContent && !ended) {
            upstream = null;
            t.end(t.status() >= 500 ? Outcome.SERVER_ERROR : Outcome.SUCCESS, proxy.clock().nanoTime());
            t.release(true);
            end(ANSWERED);
        }
    }

    @Override
    public void onReadComplete(UpstreamTry t) {
        t.read();
    }

    @Override
    public void onWritable(UpstreamTry t) {
        // The whole copy was written at once.
    }

    @Override
    public void onIdle(UpstreamTry t) {
        fail(Outcome.TIMEOUT);
    }

    @Override
    public void onTunnelData(UpstreamTry t, ByteBuf data) {
        data.release();
    }

    @Override
    public void onTunnelInputShutdown(UpstreamTry t) {
        fail(Outcome.RESET);
    }

    /** The copy's try failed: its connection closes, its backend hears it, and it is counted. */
    private void fail(Outcome outcome) {
        UpstreamTry t = upstream;
        if (ended || t == null) {
            return;
        }
        upstream = null;
        t.close();
        t.end(outcome, proxy.clock().nanoTime());
        end(FAILED);
    }

    private void end(String result) {
        if (ended) {
            return;
        }
        ended = true;
        sending = true;
        body.release();
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
        RequestMetrics metrics = proxy.requestMetrics();
        if (metrics != null) {
            metrics.mirrored(route, pool.name(), result);
        }
    }

    @Override
    public String toString() {
        return "copy of " + head.method() + " " + head.uri() + " to " + pool;
    }
}
