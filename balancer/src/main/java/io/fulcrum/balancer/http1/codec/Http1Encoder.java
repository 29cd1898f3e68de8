package io.fulcrum.balancer.http1.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;

/**
 * The HTTP/1.1 message encoder for either direction: responses to clients or requests to
 * backends. A head read by {@link Http1Decoder} is written back as the bytes it came in, less the
 * fields removed and plus those added ({@link RawHeaders#encode}); other heads (the balancer's own
 * responses) field by field. Body parts are written as the buffers they arrived in, with chunk
 * framing when the head announced chunked; a small part is copied into the same buffer as its
 * framing (or its head) so that it costs one buffer, not three.
 *
 * <p>The body of a response to HEAD, and of 1xx, 204 and 304 responses, is never written
 * (RFC 9110 section 9.3.2, RFC 9112 section 6.3): on a server's side the methods of the requests
 * come from the decoder through a shared queue.
 *
 * <p>Not thread safe: one per channel.
 */
public final class Http1Encoder extends ChannelOutboundHandlerAdapter {
    private static final int NONE = 0;
    private static final int PLAIN = 1;
    private static final int CHUNKED = 2;
    private static final int EMPTY = 3;
    /** Body parts up to this size are copied next to their framing instead of written on their own. */
    private static final int COPY_BELOW = 1024;
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final boolean responses;
    /**
     * Responses: the methods of the requests answered, oldest first, added by the decoder.
     * Requests: the methods of the requests written, for the response decoder.
     */
    private final ArrayDeque<HttpMethod> methods;
    private int mode = NONE;

    public Http1Encoder(boolean responses, ArrayDeque<HttpMethod> methods) {
        this.responses = responses;
        this.methods = methods;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpMessage) {
            HttpMessage m = (HttpMessage) msg;
            ByteBuf head = encodeHead(ctx, m);
            if (msg instanceof HttpContent) {
                writeContent(ctx, head, (HttpContent) msg, promise);
            } else {
                ctx.write(head, promise);
            }
        } else if (msg instanceof HttpContent) {
            writeContent(ctx, null, (HttpContent) msg, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    private ByteBuf encodeHead(ChannelHandlerContext ctx, HttpMessage m) {
        HttpHeaders headers = m.headers();
        RawHeaders raw = headers instanceof RawHeaders ? (RawHeaders) headers : null;
        ByteBuf buf = ctx.alloc().buffer(raw == null ? 256 : 96 + raw.encodedSizeHint());
        boolean bodyless;
        if (responses) {
            HttpResponse r = (HttpResponse) m;
            int code = r.status().code();
            boolean interim = code >= 100 && code < 200;
            HttpMethod method = interim ? null : methods.poll();
            bodyless = interim || code == 204 || code == 304 || HttpMethod.HEAD.equals(method);
            if (!(r instanceof RawResponse) || !((RawResponse) r).writeReceivedLine(buf)) {
                ByteBufUtil.writeAscii(buf, r.protocolVersion().text());
                buf.writeByte(' ');
                ByteBufUtil.writeAscii(buf, r.status().codeAsText());
                buf.writeByte(' ');
                ByteBufUtil.writeAscii(buf, r.status().reasonPhrase());
                buf.writeByte('\r').writeByte('\n');
            }
        } else {
            HttpRequest r = (HttpRequest) m;
            methods.add(r.method());
            bodyless = false;
            if (!(r instanceof RawRequest) || !((RawRequest) r).writeReceivedLine(buf)) {
                ByteBufUtil.writeAscii(buf, r.method().asciiName());
                buf.writeByte(' ');
                ByteBufUtil.writeAscii(buf, r.uri());
                buf.writeByte(' ');
                ByteBufUtil.writeAscii(buf, r.protocolVersion().text());
                buf.writeByte('\r').writeByte('\n');
            }
        }
        if (raw != null) {
            raw.encode(buf);
        } else {
            encodeFields(headers, buf);
        }
        buf.writeByte('\r').writeByte('\n');
        mode = bodyless ? EMPTY : HttpUtil.isTransferEncodingChunked(m) ? CHUNKED : PLAIN;
        return buf;
    }

    /**
     * Writes one body part, after {@code head} when it is not {@code null} (a message with its
     * content). Ownership of {@code part} passes here.
     */
    private void writeContent(ChannelHandlerContext ctx, ByteBuf head, HttpContent part, ChannelPromise promise) {
        boolean last = part instanceof LastHttpContent;
        ByteBuf data = part.content();
        int n = data.readableBytes();
        int current = mode;
        if (last) {
            mode = NONE;
        }
        if (current == PLAIN) {
            if (head == null) {
                ctx.write(data, promise);
            } else if (n <= COPY_BELOW) {
                head.writeBytes(data);
                part.release();
                ctx.write(head, promise);
            } else {
                ctx.write(head, ctx.voidPromise());
                ctx.write(data, promise);
            }
            return;
        }
        if (current != CHUNKED) {
            // No body may be sent (HEAD, 1xx, 204, 304), or none was announced.
            part.release();
            ctx.write(head == null ? Unpooled.EMPTY_BUFFER : head, promise);
            return;
        }
        HttpHeaders trailers = last ? ((LastHttpContent) part).trailingHeaders() : null;
        if (n == 0) {
            part.release();
            if (!last) {
                ctx.write(head == null ? Unpooled.EMPTY_BUFFER : head, promise);
                return;
            }
            ByteBuf out = head == null ? ctx.alloc().buffer(trailers.isEmpty() ? 5 : 256) : head;
            writeLastChunk(out, trailers);
            ctx.write(out, promise);
            return;
        }
        int framing = 12 + (last ? 5 : 0);
        if (n <= COPY_BELOW) {
            ByteBuf out = head == null ? ctx.alloc().buffer(n + framing) : head;
            writeChunkSize(out, n);
            out.writeBytes(data);
            part.release();
            out.writeByte('\r').writeByte('\n');
            if (last) {
                writeLastChunk(out, trailers);
            }
            ctx.write(out, promise);
            return;
        }
        ByteBuf prefix = head == null ? ctx.alloc().buffer(framing) : head;
        writeChunkSize(prefix, n);
        ctx.write(prefix, ctx.voidPromise());
        ctx.write(data, ctx.voidPromise());
        ByteBuf suffix = ctx.alloc().buffer(last && !trailers.isEmpty() ? 256 : 7);
        suffix.writeByte('\r').writeByte('\n');
        if (last) {
            writeLastChunk(suffix, trailers);
        }
        ctx.write(suffix, promise);
    }

    /** Writes ordinary header fields as {@code name: value CRLF}. */
    private static void encodeFields(HttpHeaders headers, ByteBuf out) {
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            ByteBufUtil.writeAscii(out, field.getKey());
            out.writeByte(':').writeByte(' ');
            ByteBufUtil.writeAscii(out, field.getValue());
            out.writeByte('\r').writeByte('\n');
        }
    }

    private static void writeChunkSize(ByteBuf out, int n) {
        int shift = 28;
        while (shift > 0 && (n >>> shift) == 0) {
            shift -= 4;
        }
        for (; shift >= 0; shift -= 4) {
            out.writeByte(HEX[(n >>> shift) & 0xF]);
        }
        out.writeByte('\r').writeByte('\n');
    }

    private static void writeLastChunk(ByteBuf out, HttpHeaders trailers) {
        out.writeByte('0').writeByte('\r').writeByte('\n');
        if (!trailers.isEmpty()) {
            encodeFields(trailers, out);
        }
        out.writeByte('\r').writeByte('\n');
    }

    /** One per connection: answered here, not by Netty's per-thread annotation cache (a lookup per handler added). */
    @Override
    public boolean isSharable() {
        return false;
    }
}
