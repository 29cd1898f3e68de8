package io.fulcrum.balancer.http1.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * A strict HTTP/1.1 message decoder (RFC 9112) for either direction: requests from clients or
 * responses from backends. Each head is found, copied once into a byte array and validated in one
 * pass: start line, field names ({@code token}), field values (no control character but HTAB),
 * CRLF line endings only (a bare CR or LF is refused), no whitespace before a colon, no line
 * folding (obs-fold). The fields stay bytes ({@link RawHeaders}). Bodies are read by its
 * {@link BodyFraming} and passed on as slices of the received buffers, never copied.
 *
 * <p>Framing follows RFC 9112 section 6: for requests, Transfer-Encoding with Content-Length,
 * Transfer-Encoding in HTTP/1.0, a Transfer-Encoding whose final coding is not chunked, and a
 * Content-Length that is not one plain number are refused (each could smuggle a second request).
 * For responses, chunked framing wins over Content-Length (which is then dropped), any other
 * Transfer-Encoding or no length at all means the body ends when the connection closes, and
 * responses to HEAD, 1xx, 204 and 304 have no body.
 *
 * <p>A message that fails to parse is passed on with a failed {@link DecoderResult} (the head, or
 * the body's last part), after which everything else the connection sends is ignored: its framing
 * can no longer be trusted.
 *
 * <p>Output: a {@link RawRequest} or {@link RawResponse}, then zero or more {@code HttpContent},
 * then one {@code LastHttpContent}. Not thread safe: one per channel.
 */
public final class Http1Decoder extends ByteToMessageDecoder {
    private static final int HEAD = 0;
    /** In a body, which {@link #body} reads. */
    private static final int BODY = 1;
    /** After a chunked body's last chunk: its trailer section. */
    private static final int TRAILERS = 2;
    private static final int BAD = 3;
    /** After an upgrade request: nothing more is parsed until the answer shows whether it switched. */
    private static final int UPGRADE_WAIT = 4;
    /** After a 101: the bytes that follow are another protocol's, for whoever replaces this decoder. */
    private static final int UPGRADED = 5;

    private static final byte[] HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final boolean requests;
    private final int maxLineBytes;
    private final int maxHeaderBytes;
    /**
     * Requests: the method of each request decoded is added. Responses: the method of the request
     * whose response comes next is taken when a final response head arrives.
     */
    private final ArrayDeque<HttpMethod> methods;

    private int state = HEAD;
    /** The fields of the head (or trailer section) just found. */
    private final FieldParser fields = new FieldParser();
    /** The framing of the body under way. */
    private final BodyFraming body;
    private final Consumer<ChannelPipeline> onHttp2Preface;
    /** No byte of the connection has been parsed yet (the HTTP/2 preface is looked for then). */
    private boolean firstBytes = true;
    /** Head scanning, relative to the reader index: where the current line starts, and the first line's end. */
    private int scanLineStart;
    private int scanFirstLineEnd = -1;
    /** Field lines seen so far in the section being scanned. */
    private int scanFields;
    /** Field lines of the section just found. */
    private int sectionFields;

    /**
     * @param requests decode requests (a server's side) rather than responses
     * @param maxLineBytes the longest request or status line
     * @param maxHeaderBytes the largest header section (and trailer section)
     * @param maxChunkBytes the largest body part passed on at once
     */
    public Http1Decoder(boolean requests, int maxLineBytes, int maxHeaderBytes, int maxChunkBytes,
            ArrayDeque<HttpMethod> methods) {
        this(requests, maxLineBytes, maxHeaderBytes, maxChunkBytes, methods, null);
    }

    /**
     * @param onHttp2Preface when not {@code null}, a connection that starts with HTTP/2's
     *     connection preface (RFC 9113 section 3.4) is handed to HTTP/2: this is called with the
     *     pipeline to put HTTP/2's handlers after this decoder (and take out HTTP/1.1's), and the
     *     decoder then leaves, passing on the bytes received, preface included. HTTP/1.1
     *     connections pay nothing for the check but a look at their first bytes.
     */
    public Http1Decoder(boolean requests, int maxLineBytes, int maxHeaderBytes, int maxChunkBytes,
            ArrayDeque<HttpMethod> methods, Consumer<ChannelPipeline> onHttp2Preface) {
        this.onHttp2Preface = onHttp2Preface;
        this.requests = requests;
        this.maxLineBytes = maxLineBytes;
        this.maxHeaderBytes = maxHeaderBytes;
        this.body = new BodyFraming(maxChunkBytes);
        this.methods = methods;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            while (in.isReadable()) {
                int before = in.readerIndex();
                int outBefore = out.size();
                switch (state) {
                    case HEAD -> readHead(ctx, in, out);
                    case BODY -> readBody(in, out);
                    case TRAILERS -> readTrailers(in, out);
                    case UPGRADE_WAIT, UPGRADED -> {
                        return;
                    }
                    default -> in.skipBytes(in.readableBytes());
                }
                if (in.readerIndex() == before && out.size() == outBefore) {
                    return;
                }
            }
        } catch (DecoderException e) {
            fail(in, out, e);
        }
    }

    /**
     * The upgrade request just decoded was answered without switching protocols: parsing goes on
     * with the next request (bytes already received are parsed when more arrive).
     */
    public void resume() {
        if (state == UPGRADE_WAIT) {
            state = HEAD;
        }
    }

    /**
     * Whether part of a request head has been received and not yet parsed: the decoder waits for
     * a head and holds some of its bytes (empty lines before a head are not a part of it).
     */
    public boolean headPending() {
        return state == HEAD && actualReadableBytes() > 0;
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (in.isReadable()) {
            decode(ctx, in, out);
        }
        if (state == BODY && body.endsAtClose()) {
            // The body ended with the connection, as announced (RFC 9112 section 6.3).
            state = HEAD;
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        // Closed inside a head or a framed body: nothing complete to pass on; the handler sees
        // the connection close.
    }

    private void fail(ByteBuf in, List<Object> out, DecoderException cause) {
        boolean inHead = state == HEAD;
        state = BAD;
        in.skipBytes(in.readableBytes());
        if (!inHead) {
            LastContent failed = new LastContent(io.netty.buffer.Unpooled.EMPTY_BUFFER);
            failed.setDecoderResult(DecoderResult.failure(cause));
            out.add(failed);
        } else if (requests) {
            methods.add(HttpMethod.GET);
            out.add(RawRequest.failed(cause));
        } else {
            out.add(RawResponse.failed(cause));
        }
    }

    static DecoderException malformed(String why) {
        return new DecoderException(why);
    }

    // ---- heads ----

    private void readHead(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (firstBytes && onHttp2Preface != null) {
            int n = Math.min(in.readableBytes(), HTTP2_PREFACE.length);
            for (int i = 0; i < n; i++) {
                if (in.getByte(in.readerIndex() + i) != HTTP2_PREFACE[i]) {
                    firstBytes = false;
                    break;
                }
            }
            if (firstBytes) {
                if (n < HTTP2_PREFACE.length) {
                    return;
                }
                // HTTP/2 with prior knowledge: nothing here is parsed; the bytes go to HTTP/2.
                state = UPGRADED;
                onHttp2Preface.accept(ctx.pipeline());
                ctx.pipeline().remove(this);
                return;
            }
        }
        if (scanLineStart == 0) {
            // Empty lines before a message are ignored (RFC 9112 section 2.2).
            while (in.readableBytes() >= 2 && in.getByte(in.readerIndex()) == '\r'
                    && in.getByte(in.readerIndex() + 1) == '\n') {
                in.skipBytes(2);
            }
        }
        int end = findSectionEnd(in, true);
        if (end < 0) {
            return;
        }
        int start = in.readerIndex();
        byte[] head = new byte[end - start];
        in.readBytes(head);
        int firstLineEnd = scanFirstLineEnd;
        scanLineStart = 0;
        scanFirstLineEnd = -1;
        fields.parse(head, firstLineEnd, sectionFields);
        if (requests) {
            parseRequest(head, firstLineEnd, out);
        } else {
            parseResponse(head, firstLineEnd, out);
        }
    }

    /**
     * Finds the end of a head (start line, fields, empty line) or of a trailer section (fields,
     * empty line) starting at the reader index, checking line endings and size limits as bytes
     * arrive. Returns the index after the empty line, or -1 when more bytes are needed.
     */
    private int findSectionEnd(ByteBuf in, boolean startLine) {
        int start = in.readerIndex();
        int limit = in.writerIndex();
        int lineStart = start + scanLineStart;
        int firstLineEnd = scanFirstLineEnd < 0 ? (startLine ? -1 : 0) : start + scanFirstLineEnd;
        while (true) {
            int lf = in.indexOf(lineStart, limit, (byte) '\n');
            if (lf < 0) {
                scanLineStart = lineStart - start;
                scanFirstLineEnd = firstLineEnd < 0 ? -1 : firstLineEnd - start;
                if (firstLineEnd < 0 && limit - lineStart > maxLineBytes + 1) {
                    throw new TooLongHttpLineException("start line longer than " + maxLineBytes + " bytes");
                }
                if (limit - Math.max(start, firstLineEnd) > maxHeaderBytes + 2) {
                    throw new TooLongHttpHeaderException("header section larger than " + maxHeaderBytes + " bytes");
                }
                return -1;
            }
            if (lf == lineStart || in.getByte(lf - 1) != '\r') {
                throw malformed("line not ended by CRLF");
            }
            if (firstLineEnd < 0) {
                if (lf - 1 - lineStart > maxLineBytes) {
                    throw new TooLongHttpLineException("start line longer than " + maxLineBytes + " bytes");
                }
                firstLineEnd = lf + 1;
            } else {
                if (lf + 1 - Math.max(start, firstLineEnd) > maxHeaderBytes + 2) {
                    throw new TooLongHttpHeaderException("header section larger than " + maxHeaderBytes + " bytes");
                }
                if (lf - 1 == lineStart) {
                    scanLineStart = 0;
                    scanFirstLineEnd = startLine ? firstLineEnd - start : -1;
                    sectionFields = scanFields;
                    scanFields = 0;
                    return lf + 1;
                }
                scanFields++;
            }
            lineStart = lf + 1;
        }
    }

    private void parseRequest(byte[] head, int firstLineEnd, List<Object> out) {
        int lineEnd = firstLineEnd - 2;
        int sp1 = 0;
        while (sp1 < lineEnd && FieldSyntax.TCHAR[head[sp1] & 0xFF]) {
            sp1++;
        }
        if (sp1 == 0 || sp1 == lineEnd || head[sp1] != ' ') {
            throw malformed("invalid request line");
        }
        int sp2 = lineEnd - 1;
        while (sp2 > sp1 && head[sp2] != ' ') {
            sp2--;
        }
        if (sp2 <= sp1 + 1) {
            throw malformed("invalid request line");
        }
        for (int i = sp1 + 1; i < sp2; i++) {
            if (head[i] == ' ') {
                // request-line = method SP request-target SP HTTP-version, one space each.
                throw malformed("invalid request line");
            }
        }
        HttpVersion version = StartLines.version(head, sp2 + 1, lineEnd);
        if (version == null) {
            throw malformed("invalid HTTP version");
        }
        HttpMethod method = StartLines.method(head, sp1);
        String uri = new String(head, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1);
        if (fields.transferEncoding) {
            if (version == HttpVersion.HTTP_1_0) {
                throw malformed("Transfer-Encoding in an HTTP/1.0 request");
            }
            if (fields.contentLengthFields > 0) {
                throw malformed("both Transfer-Encoding and Content-Length");
            }
            if (!fields.finalCodingChunked || fields.chunkedCount > 1) {
                // RFC 9112 section 6.1: chunked is the final coding, applied once.
                throw malformed("Transfer-Encoding whose final coding is not chunked once");
            }
        } else if (fields.contentLengthFields > 1 || fields.badContentLength) {
            throw malformed("invalid Content-Length");
        }
        RawHeaders headers = new RawHeaders(head, fields.at, fields.count);
        methods.add(method);
        RawRequest request = new RawRequest(head, firstLineEnd, method, uri, version, headers);
        out.add(request);
        startBody(out, fields.transferEncoding, fields.contentLengthFields == 1 ? fields.contentLength : 0);
        if (state == HEAD && Upgrades.requested(request) != null) {
            state = UPGRADE_WAIT;
        }
    }

    private void parseResponse(byte[] head, int firstLineEnd, List<Object> out) {
        int lineEnd = firstLineEnd - 2;
        if (lineEnd < 12 || head[8] != ' ') {
            throw malformed("invalid status line");
        }
        HttpVersion version = StartLines.version(head, 0, 8);
        if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
            throw malformed("invalid HTTP version");
        }
        int code = 0;
        for (int i = 9; i < 12; i++) {
            byte b = head[i];
            if (b < '0' || b > '9') {
                // RFC 9112 section 4: status-code = 3DIGIT.
                throw malformed("status code is not three digits");
            }
            code = code * 10 + (b - '0');
        }
        if (lineEnd > 12 && head[12] != ' ') {
            throw malformed("status code is not three digits");
        }
        int reasonStart = Math.min(13, lineEnd);
        for (int i = reasonStart; i < lineEnd; i++) {
            if (!FieldSyntax.FIELD_BYTE[head[i] & 0xFF]) {
                throw malformed("invalid reason phrase");
            }
        }
        HttpResponseStatus status = StartLines.status(code, head, reasonStart, lineEnd);
        boolean interim = code >= 100 && code < 200;
        HttpMethod method = interim ? null : methods.poll();
        if (fields.transferEncoding && fields.contentLengthFields > 0) {
            // RFC 9112 section 6.3: a sign of response splitting, "ought to be handled as an error".
            throw malformed("both Transfer-Encoding and Content-Length");
        }
        if (fields.contentLengthFields > 1 || fields.badContentLength || fields.chunkedCount > 1) {
            throw malformed(fields.chunkedCount > 1 ? "chunked applied more than once" : "invalid Content-Length");
        }
        RawHeaders headers = new RawHeaders(head, fields.at, fields.count);
        out.add(new RawResponse(head, firstLineEnd, version, status, headers));
        if (code == 101) {
            // Switching protocols: whatever follows is not HTTP/1.1.
            state = UPGRADED;
            return;
        }
        if (interim || code == 204 || code == 304 || HttpMethod.HEAD.equals(method)) {
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        if (fields.transferEncoding && !fields.finalCodingChunked) {
            body.startUntilClose();
            state = BODY;
            return;
        }
        if (!fields.transferEncoding && fields.contentLengthFields == 0) {
            body.startUntilClose();
            state = BODY;
            return;
        }
        startBody(out, fields.transferEncoding, fields.contentLength);
    }

    private void startBody(List<Object> out, boolean chunked, long length) {
        state = body.start(out, chunked, length) ? BODY : HEAD;
    }

    // ---- bodies ----

    private void readBody(ByteBuf in, List<Object> out) {
        int next = body.read(in, out);
        if (next == BodyFraming.ENDED) {
            state = HEAD;
        } else if (next == BodyFraming.TRAILERS) {
            state = TRAILERS;
        }
    }

    private void readTrailers(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        if (scanLineStart == 0 && in.readableBytes() >= 2 && in.getByte(start) == '\r' && in.getByte(start + 1) == '\n') {
            in.skipBytes(2);
            state = HEAD;
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        int end = findSectionEnd(in, false);
        if (end < 0) {
            return;
        }
        byte[] section = new byte[end - start];
        in.readBytes(section);
        fields.parse(section, 0, sectionFields);
        HttpHeaders trailers = DefaultHttpHeadersFactory.trailersFactory().newHeaders();
        for (int f = 0; f < fields.count; f++) {
            int k = f * FieldParser.STRIDE;
            int[] at = fields.at;
            int nameLength = at[k + 1] - at[k];
            if (!fields.frames(section, f)) {
                // RFC 9110 section 6.5.1: fields that frame the message are not allowed as trailers.
                trailers.add(new String(section, at[k], nameLength, StandardCharsets.ISO_8859_1),
                        new String(section, at[k + 2], at[k + 3] - at[k + 2], StandardCharsets.ISO_8859_1));
            }
        }
        state = HEAD;
        out.add(new LastContent(io.netty.buffer.Unpooled.EMPTY_BUFFER, trailers));
    }

    /** One per connection: answered here, not by Netty's per-thread annotation cache (a lookup per handler added). */
    @Override
    public boolean isSharable() {
        return false;
    }
}
