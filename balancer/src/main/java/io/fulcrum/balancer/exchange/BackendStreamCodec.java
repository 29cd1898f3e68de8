package io.fulcrum.balancer.exchange;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.PromiseNotifier;
import java.util.Map;

/**
 * Turns one HTTP/2 stream to a backend into what an {@link UpstreamTry} drives on an HTTP/1.1
 * connection: the request head and body parts it writes become HEADERS and DATA frames (trailers a
 * last HEADERS frame), and the response's frames become a response head, body parts and a last
 * part carrying the trailers. A response of headers only (gRPC's "trailers-only") is a head and an
 * empty last part, its fields in the head. A stream the backend never processed (RST_STREAM with
 * REFUSED_STREAM, above the last stream id of a GOAWAY, or not opened at all) is announced with
 * {@link #REFUSED} before it closes, so the try knows no byte of the request reached the backend
 * (RFC 9113 section 8.7) and it may go to another backend whatever its method.
 *
 * <p>Not thread safe: confined to the stream channel's event loop (its connection's).
 */
final class BackendStreamCodec extends ChannelDuplexHandler {
    /** The user event fired when the backend did not process the stream. */
    static final Object REFUSED = new Object() {
        @Override
        public String toString() {
            return "REFUSED_STREAM";
        }
    };
    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");

    private AsciiString scheme = AsciiString.cached("http");
    /** The request head, held until its first body part shows whether it ends the stream. */
    private Http2Headers pendingHead;
    /** The promise of the write that brought {@link #pendingHead} alone, completed with its frame. */
    private ChannelPromise pendingHeadPromise;
    /** Whether the final response head came; what HEADERS follow it are trailers. */
    private boolean headRead;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().parent() != null && ctx.channel().parent().pipeline().get(SslHandler.class) != null) {
            scheme = AsciiString.cached("https");
        }
    }

    // ---- the request ----

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpRequest request) {
            pendingHead = requestHeaders(request);
        }
        if (!(msg instanceof HttpContent content)) {
            if (msg instanceof HttpRequest) {
                // Completed when the head's frame is written, with the first body part or a flush.
                pendingHeadPromise = promise;
            } else {
                ctx.write(msg, promise);
            }
            return;
        }
        if (content instanceof LastHttpContent last) {
            HttpHeaders trailers = last.trailingHeaders();
            boolean data = content.content().isReadable();
            if (pendingHead != null && !data && trailers.isEmpty()) {
                content.release();
                ChannelFuture head = writeHead(ctx, true);
                if (!promise.isVoid()) {
                    head.addListener(new PromiseNotifier<>(false, promise));
                }
                return;
            }
            writeHead(ctx, false);
            if (trailers.isEmpty()) {
                ctx.write(new DefaultHttp2DataFrame(content.content(), true), promise);
                return;
            }
            if (data) {
                ctx.write(new DefaultHttp2DataFrame(content.content(), false));
            } else {
                content.release();
            }
            Http2Headers fields = new DefaultHttp2Headers(false, trailers.size());
            HttpConversionUtil.toHttp2Headers(trailers, fields);
            ctx.write(new DefaultHttp2HeadersFrame(fields, true), promise);
            return;
        }
        writeHead(ctx, false);
        if (content.content().isReadable()) {
            ctx.write(new DefaultHttp2DataFrame(content.content(), false), promise);
        } else {
            content.release();
            promise.trySuccess();
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        // The head goes out with what is written so far, e.g. before a body that is slow to come.
        writeHead(ctx, false);
        ctx.flush();
    }

    /**
     * Writes the held request head, if any, and completes the promise of the write that brought it;
     * returns the head frame's future (a succeeded one when no head was held).
     */
    private ChannelFuture writeHead(ChannelHandlerContext ctx, boolean endStream) {
        Http2Headers head = pendingHead;
        if (head == null) {
            return ctx.newSucceededFuture();
        }
        pendingHead = null;
        ChannelPromise opened = ctx.newPromise();
        opened.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                // The stream was never opened (GOAWAY came, or the connection went): nothing was sent.
                f.channel().pipeline().fireUserEventTriggered(REFUSED);
                f.channel().close();
            }
        });
        ChannelPromise headPromise = pendingHeadPromise;
        pendingHeadPromise = null;
        if (headPromise != null && !headPromise.isVoid()) {
            // A void promise stays out: a failed head is answered above, not again as an exception.
            opened.addListener(new PromiseNotifier<>(false, headPromise));
        }
        return ctx.write(new DefaultHttp2HeadersFrame(head, endStream), opened);
    }

    private Http2Headers requestHeaders(HttpRequest request) {
        HttpHeaders in = request.headers();
        Http2Headers out = new DefaultHttp2Headers(false, in.size() + 5);
        out.method(request.method().asciiName()).scheme(scheme).path(path(request.uri()));
        String host = in.get(HttpHeaderNames.HOST);
        if (host != null) {
            out.authority(host);
        }
        // Drops the fields of the HTTP/1.1 connection (RFC 9113 section 8.2.2) and Host.
        HttpConversionUtil.toHttp2Headers(in, out);
        // The balancer passes trailers on (RFC 9113 section 8.2.2 allows this one TE); gRPC servers want it.
        out.set(TE, TRAILERS);
        return out;
    }

    /** The :path of a request target: origin form as it is, absolute form without scheme and authority. */
    private static CharSequence path(String uri) {
        if (uri.startsWith("/") || uri.equals("*")) {
            return uri;
        }
        int scheme = uri.indexOf("://");
        int slash = scheme < 0 ? -1 : uri.indexOf('/', scheme + 3);
        return slash < 0 ? "/" : uri.substring(slash);
    }

    // ---- the response ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame frame) {
            onHeaders(ctx, frame);
        } else if (msg instanceof Http2DataFrame frame) {
            ctx.fireChannelRead(frame.isEndStream() ? new DefaultLastHttpContent(frame.content())
                    : new DefaultHttpContent(frame.content()));
        } else if (msg instanceof Http2ResetFrame reset) {
            if (reset.errorCode() == Http2Error.REFUSED_STREAM.code() && !headRead) {
                ctx.fireUserEventTriggered(REFUSED);
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
        Http2Headers in = frame.headers();
        if (headRead) {
            LastHttpContent trailers = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
            copy(in, trailers.trailingHeaders());
            ctx.fireChannelRead(trailers);
            return;
        }
        HttpResponseStatus status;
        try {
            status = HttpConversionUtil.parseStatus(in.status());
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        copy(in, head.headers());
        boolean interim = status.code() < 200;
        headRead = !interim;
        ctx.fireChannelRead(head);
        if (interim || frame.isEndStream()) {
            // An interim response ends with its head; so does a response of headers only.
            ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /** The regular fields of {@code in}, without its pseudo-header fields. */
    private static void copy(Http2Headers in, HttpHeaders out) {
        for (Map.Entry<CharSequence, CharSequence> field : in) {
            CharSequence name = field.getKey();
            if (name.length() == 0 || name.charAt(0) != ':') {
                out.add(name, field.getValue());
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2GoAwayFrame goAway) {
            // Sent only to the streams above the GOAWAY's last stream id: never processed.
            goAway.release();
            ctx.fireUserEventTriggered(REFUSED);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
