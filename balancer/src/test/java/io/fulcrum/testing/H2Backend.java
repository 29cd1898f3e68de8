package io.fulcrum.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/2 backend on a loopback port, in clear text (prior knowledge) or over TLS with ALPN
 * {@code h2}, spoken by Netty's frame codec: each stream is answered once its request ended, with
 * 200, headers saying what arrived ({@code x-method}, {@code x-path}, {@code x-authority},
 * {@code x-te}, {@code x-body-bytes}, and the request's trailers as {@code x-trailer-*}), the request
 * body echoed, and trailers {@code x-end: done} and {@code x-body-bytes}. It may be told to hold its
 * answers until a latch opens or to answer one path with another status, and it counts the
 * connections and streams it saw, the streams by path, and the streams reset before their answer.
 */
public final class H2Backend implements AutoCloseable {
    private final LoopbackServer server;
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger streams = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger mostOpen = new AtomicInteger();
    private final AtomicInteger reset = new AtomicInteger();
    private final Map<String, AtomicInteger> byPath = new ConcurrentHashMap<>();
    private final Map<String, Integer> statusByPath = new ConcurrentHashMap<>();
    private volatile CountDownLatch hold;

    private H2Backend(SslContext tls, int maxConcurrentStreams) throws InterruptedException {
        this.server = LoopbackServer.start(ch -> {
            connections.add(ch);
            if (tls != null) {
                ch.pipeline().addLast(tls.newHandler(ch.alloc()));
            }
            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                    .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams))
                    .build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel stream) {
                    stream.pipeline().addLast(new Echo());
                }
            }));
        });
    }

    /** A clear-text backend taking {@code maxConcurrentStreams} streams per connection. */
    public static H2Backend h2c(int maxConcurrentStreams) throws InterruptedException {
        return new H2Backend(null, maxConcurrentStreams);
    }

    /** A TLS backend; {@code tls} must agree to {@code h2} by ALPN. */
    public static H2Backend h2(SslContext tls) throws InterruptedException {
        return new H2Backend(tls, 100);
    }

    public int port() {
        return server.port();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.size();
    }

    /** Streams (requests) seen so far. */
    public int streams() {
        return streams.get();
    }

    /** Streams that ended before their answer (the client reset them), while held or being read. */
    public int resetStreams() {
        return reset.get();
    }

    /** The most streams open at once. */
    public int mostOpen() {
        return mostOpen.get();
    }

    /** Streams seen so far whose {@code :path} was {@code path}. */
    public int streams(String path) {
        AtomicInteger n = byPath.get(path);
        return n == null ? 0 : n.get();
    }

    /** Answers requests for {@code path} with {@code status} from now on (200 is the default). */
    public void status(String path, int status) {
        statusByPath.put(path, status);
    }

    /** Holds every answer until {@code latch} opens ({@code null}: answer at once). */
    public void hold(CountDownLatch latch) {
        this.hold = latch;
    }

    @Override
    public void close() {
        server.close();
    }

    /** One stream: gathers its request, then answers it. */
    private final class Echo extends ChannelInboundHandlerAdapter {
        private Http2Headers request;
        private Http2Headers trailers;
        private CompositeByteBuf body;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean end;
            if (msg instanceof Http2HeadersFrame h) {
                if (request == null) {
                    request = h.headers();
                    streams.incrementAndGet();
                    byPath.computeIfAbsent(String.valueOf(request.path()), k -> new AtomicInteger()).incrementAndGet();
                    mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                    body = ctx.alloc().compositeBuffer();
                } else {
                    trailers = h.headers();
                }
                end = h.isEndStream();
            } else if (msg instanceof Http2DataFrame d) {
                body.addComponent(true, d.content().retain());
                end = d.isEndStream();
                d.release();
            } else {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (end) {
                CountDownLatch latch = hold;
                if (latch == null) {
                    answer(ctx);
                } else {
                    CompletableFuture.runAsync(() -> {
                        try {
                            latch.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        ctx.executor().execute(() -> answer(ctx));
                    });
                }
            }
        }

        private void answer(ChannelHandlerContext ctx) {
            if (body == null) {
                // The stream was reset while held.
                return;
            }
            open.decrementAndGet();
            int bytes = body.readableBytes();
            int status = statusByPath.getOrDefault(String.valueOf(request.path()), 200);
            Http2Headers head = new DefaultHttp2Headers().status(Integer.toString(status))
                    .set("x-method", request.method()).set("x-path", request.path())
                    .set("x-authority", String.valueOf(request.authority()))
                    .set("x-te", String.valueOf(request.get("te")))
                    .set("x-body-bytes", Integer.toString(bytes));
            if (trailers != null) {
                for (Map.Entry<CharSequence, CharSequence> t : trailers) {
                    head.set("x-trailer-" + t.getKey(), t.getValue());
                }
            }
            ctx.write(new DefaultHttp2HeadersFrame(head, false));
            ByteBuf out = body;
            body = null;
            ctx.write(new DefaultHttp2DataFrame(out, false));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("x-end", "done")
                    .set("x-body-bytes", Integer.toString(bytes)), true));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (body != null) {
                reset.incrementAndGet();
                open.decrementAndGet();
                body.release();
                body = null;
            }
        }
    }
}
