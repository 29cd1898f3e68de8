package io.fulcrum.balancer.http1.codec;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Reads one message body at a time as its head framed it (RFC 9112 section 6): a fixed length
 * (Content-Length), chunks (RFC 9112 section 7.1: size lines with their extensions checked, each
 * chunk's data and its CRLF), or whatever comes until the connection closes. Body parts are passed
 * on as slices of the received buffers, never copied, at most {@code maxChunkBytes} each. A chunked
 * body's trailer section is a field section like a head's, so {@link Http1Decoder} reads it.
 *
 * <p>Not thread safe: one per {@link Http1Decoder}, made with it and confined to its channel's
 * event loop.
 */
final class BodyFraming {
    /** What {@link #read} leaves: the body goes on. */
    static final int MORE = 0;
    /** What {@link #read} leaves: the body ended and its last part was passed on. */
    static final int ENDED = 1;
    /** What {@link #read} leaves: the last chunk was read; the trailer section comes next. */
    static final int TRAILERS = 2;

    private static final int FIXED = 0;
    private static final int CHUNK_SIZE = 1;
    private static final int CHUNK_DATA = 2;
    private static final int CHUNK_END = 3;
    private static final int UNTIL_CLOSE = 4;

    /** The longest chunk-size line, extensions included, that is read. */
    private static final int MAX_CHUNK_LINE = 4096;

    private final int maxChunkBytes;
    private int phase;
    /** Bytes left of the fixed-length body or of the current chunk's data. */
    private long remaining;

    BodyFraming(int maxChunkBytes) {
        this.maxChunkBytes = maxChunkBytes;
    }

    /**
     * Starts the body of a head just decoded: chunked, or {@code length} bytes. Returns false, with
     * the empty last part passed on, when there is no body.
     */
    boolean start(List<Object> out, boolean chunked, long length) {
        if (chunked) {
            phase = CHUNK_SIZE;
        } else if (length > 0) {
            remaining = length;
            phase = FIXED;
        } else {
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            return false;
        }
        return true;
    }

    /** Starts a body that ends when the connection closes (RFC 9112 section 6.3). */
    void startUntilClose() {
        phase = UNTIL_CLOSE;
    }

    /** Whether the body under way ends when the connection closes. */
    boolean endsAtClose() {
        return phase == UNTIL_CLOSE;
    }

    /** Reads the next piece of the body: {@link #MORE}, {@link #ENDED} or {@link #TRAILERS}. */
    int read(ByteBuf in, List<Object> out) {
        return switch (phase) {
            case CHUNK_SIZE -> readChunkSize(in);
            case CHUNK_END -> readChunkEnd(in);
            default -> readData(in, out);
        };
    }

    private int readData(ByteBuf in, List<Object> out) {
        int readable = in.readableBytes();
        if (phase == UNTIL_CLOSE) {
            out.add(new DefaultHttpContent(in.readRetainedSlice(Math.min(readable, maxChunkBytes))));
            return MORE;
        }
        int n = (int) Math.min(Math.min(remaining, readable), maxChunkBytes);
        ByteBuf part = in.readRetainedSlice(n);
        remaining -= n;
        if (remaining > 0) {
            out.add(new DefaultHttpContent(part));
            return MORE;
        }
        if (phase == FIXED) {
            out.add(new LastContent(part));
            return ENDED;
        }
        phase = CHUNK_END;
        out.add(new DefaultHttpContent(part));
        return MORE;
    }

    private int readChunkSize(ByteBuf in) {
        int start = in.readerIndex();
        int limit = Math.min(in.writerIndex(), start + MAX_CHUNK_LINE + 2);
        int lf = in.indexOf(start, limit, (byte) '\n');
        if (lf < 0) {
            if (limit - start >= MAX_CHUNK_LINE + 2) {
                throw Http1Decoder.malformed("chunk size line too long");
            }
            return MORE;
        }
        if (lf == start || in.getByte(lf - 1) != '\r') {
            throw Http1Decoder.malformed("chunk size line not ended by CRLF");
        }
        int end = lf - 1;
        long size = 0;
        int i = start;
        while (i < end) {
            int digit = Character.digit((char) in.getByte(i), 16);
            if (digit < 0) {
                break;
            }
            if (i - start >= 15) {
                throw Http1Decoder.malformed("chunk size too large");
            }
            size = size * 16 + digit;
            i++;
        }
        if (i == start) {
            throw Http1Decoder.malformed("invalid chunk size");
        }
        if (i < end) {
            // chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): no control characters.
            int j = i;
            while (j < end && (in.getByte(j) == ' ' || in.getByte(j) == '\t')) {
                j++;
            }
            if (j == end || in.getByte(j) != ';') {
                throw Http1Decoder.malformed("invalid chunk size");
            }
            for (; j < end; j++) {
                if (!FieldSyntax.FIELD_BYTE[in.getByte(j) & 0xFF]) {
                    throw Http1Decoder.malformed("invalid chunk extension");
                }
            }
        }
        in.readerIndex(lf + 1);
        if (size == 0) {
            return TRAILERS;
        }
        remaining = size;
        phase = CHUNK_DATA;
        return MORE;
    }

    private int readChunkEnd(ByteBuf in) {
        if (in.readableBytes() < 2) {
            if (in.getByte(in.readerIndex()) != '\r') {
                throw Http1Decoder.malformed("chunk data not followed by CRLF");
            }
            return MORE;
        }
        if (in.getByte(in.readerIndex()) != '\r' || in.getByte(in.readerIndex() + 1) != '\n') {
            throw Http1Decoder.malformed("chunk data not followed by CRLF");
        }
        in.skipBytes(2);
        phase = CHUNK_SIZE;
        return MORE;
    }
}
