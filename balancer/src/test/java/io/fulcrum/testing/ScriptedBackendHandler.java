package io.fulcrum.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fulcrum.testing.ScriptedBackend.Fault;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * One connection of a {@link ScriptedBackend}: reads each request (its body streamed through a
 * CRC, never held) and answers it as the backend's knobs, its fault and the request's query
 * parameters say. Confined to the connection's event loop.
 */
final class ScriptedBackendHandler extends ChannelInboundHandlerAdapter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ScriptedBackend backend;
    private final CRC32 crc = new CRC32();
    private HttpRequest request;
    private boolean healthCheck;
    private long bodyLength;

    ScriptedBackendHandler(ScriptedBackend backend) {
        this.backend = backend;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest r) {
                // Counted when the head arrives, so that a test sees a request whose body is
                // still on its way.
                request = r;
                crc.reset();
                bodyLength = 0;
                String path = new QueryStringDecoder(r.uri()).path();
                healthCheck = path.equals("/health") && !backend.echoes();
                if (healthCheck) {
                    backend.count(ScriptedBackend.Event.HEALTH_CHECK);
                } else {
                    backend.countRequest(r, path);
                }
            }
            if (msg instanceof HttpContent content) {
                ByteBuf buf = content.content();
                bodyLength += buf.readableBytes();
                crc.update(buf.nioBuffer());
                if (msg instanceof LastHttpContent) {
                    respond(ctx, request, bodyLength, crc.getValue());
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void respond(ChannelHandlerContext ctx, HttpRequest req, long length, long crc32) {
        QueryStringDecoder query = new QueryStringDecoder(req.uri());
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (healthCheck) {
            byte[] body = ("{\"status\":\"UP\",\"node\":\"" + backend.name() + "\",\"load\":"
                    + backend.reportedLoad() + "}").getBytes(StandardCharsets.UTF_8);
            write(ctx, backend.currentHealthStatus(), body, keepAlive, "application/json");
            return;
        }
        Map<String, List<String>> params = query.parameters();
        switch (backend.currentFault()) {
            // Read, never answer: open until the peer gives up.
            case HANG -> backend.count(ScriptedBackend.Event.HUNG);
            case ERROR_5XX -> write(ctx, 503, backend.expectedBody(), keepAlive, "text/plain");
            case RESET_HALF -> resetHalf(ctx, keepAlive, "true".equals(first(params, "chunked")));
            case ERROR_5XX_30_PERCENT -> {
                if (backend.nextFaultSequence() % 10 < 3) {
                    write(ctx, 503, backend.expectedBody(), keepAlive, "text/plain");
                } else {
                    answer(ctx, req, params, keepAlive, length, crc32);
                }
            }
            default -> answer(ctx, req, params, keepAlive, length, crc32);
        }
    }

    private void answer(ChannelHandlerContext ctx, HttpRequest req, Map<String, List<String>> params,
            boolean keepAlive, long length, long crc32) {
        if ("true".equals(first(params, "hang"))) {
            return;
        }
        int status = params.containsKey("status") ? Integer.parseInt(first(params, "status")) : backend.status();
        Runnable respond = () -> {
            if (params.containsKey("bytes")) {
                stream(ctx, keepAlive, Long.parseLong(first(params, "bytes")), "true".equals(first(params, "chunked")));
            } else if (backend.echoes()) {
                echo(ctx, req, keepAlive, status, length, crc32);
            } else {
                write(ctx, status, backend.expectedBody(), keepAlive, "text/plain");
            }
        };
        long delayMs = params.containsKey("delayMs") ? Long.parseLong(first(params, "delayMs")) : 0;
        if (delayMs > 0) {
            backend.answer(ctx.channel(), () -> {
                backend.delayedBy(1);
                ctx.executor().schedule(() -> {
                    backend.delayedBy(-1);
                    respond.run();
                }, delayMs, TimeUnit.MILLISECONDS);
            });
        } else {
            backend.answer(ctx.channel(), respond);
        }
    }

    /** Of every four requests: answered, cut after half the body, reset before any byte, cut. */
    private void resetHalf(ChannelHandlerContext ctx, boolean keepAlive, boolean chunked) {
        long n = backend.nextFaultSequence() % 4;
        if (n == 0) {
            write(ctx, backend.status(), backend.expectedBody(), keepAlive, "text/plain");
        } else if (n == 2) {
            backend.count(ScriptedBackend.Event.RESET_BEFORE_RESPONSE);
            ScriptedBackend.reset(ctx.channel());
        } else {
            backend.count(ScriptedBackend.Event.RESET_MID_RESPONSE);
            byte[] body = backend.expectedBody();
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain").set("X-Backend-Name", backend.name());
            if (chunked) {
                HttpUtil.setTransferEncodingChunked(head, true);
            } else {
                HttpUtil.setContentLength(head, body.length);
            }
            ctx.write(head);
            ByteBuf half = Unpooled.wrappedBuffer(body, 0, body.length / 2);
            ctx.writeAndFlush(new DefaultHttpContent(half)).addListener(f -> ScriptedBackend.reset(ctx.channel()));
        }
    }

    private void echo(ChannelHandlerContext ctx, HttpRequest req, boolean keepAlive, int status, long length,
            long crc32) {
        ObjectNode body = JSON.createObjectNode()
                .put("backend", backend.name())
                .put("method", req.method().name())
                .put("uri", req.uri())
                .put("bodyLength", length)
                .put("bodyCrc32", crc32);
        ObjectNode headers = body.putObject("headers");
        for (Map.Entry<String, String> h : req.headers()) {
            String key = h.getKey().toLowerCase(Locale.ROOT);
            ArrayNode values = headers.has(key) ? (ArrayNode) headers.get(key) : headers.putArray(key);
            values.add(h.getValue());
        }
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = response(status, bytes, keepAlive, HttpHeaderValues.APPLICATION_JSON.toString());
        response.headers()
                .set("X-Echo-Method", req.method().name())
                .set("X-Echo-Body-Length", length)
                .set("X-Echo-Body-Crc32", crc32);
        ctx.writeAndFlush(response);
    }

    private void stream(ChannelHandlerContext ctx, boolean keepAlive, long n, boolean chunked) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                .set("X-Backend-Name", backend.name())
                // The CRC is only worth computing for small streams; large ones are checked by the test.
                .set("X-Stream-Crc32",
                        n <= 4L * 1024 * 1024 ? Long.toString(GeneratedBody.expectedCrc32(n)) : "unknown");
        if (chunked) {
            HttpUtil.setTransferEncodingChunked(response, true);
        } else {
            HttpUtil.setContentLength(response, n);
        }
        HttpUtil.setKeepAlive(response, keepAlive);
        ctx.write(response);
        ctx.writeAndFlush(new HttpChunkedInput(new GeneratedBody(n, backend.streamedBytesCounter())));
    }

    private void write(ChannelHandlerContext ctx, int status, byte[] body, boolean keepAlive, String type) {
        ctx.writeAndFlush(response(status, body, keepAlive, type));
    }

    private FullHttpResponse response(int status, byte[] body, boolean keepAlive, String type) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set("X-Backend-Name", backend.name());
        HttpUtil.setContentLength(response, body.length);
        // HttpServerKeepAliveHandler closes the connection after a response that is not keep-alive.
        HttpUtil.setKeepAlive(response, keepAlive);
        return response;
    }

    private static String first(Map<String, List<String>> params, String key) {
        List<String> v = params.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
