package io.fulcrum.balancer.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Makes the request decoder reject header line folding (obs-fold). RFC 9112 section 5.2 lets a
 * server either reject it with 400 or unfold it; Netty's decoder silently unfolds, and Fulcrum,
 * being strict, rejects. This handler sits before the codec and follows the byte stream just
 * enough to know where each request's header section is: request line and fields up to the empty
 * line, then a Content-Length body or chunked body (size lines, data, trailers) that it skips.
 * When a field line starts with SP or HT, that byte is replaced with a control character, which
 * the validating decoder then refuses as an invalid field name, so the request is answered 400
 * and the connection closed in order, after any pipelined request before it.
 *
 * <p>When the framing is anything the decoder itself rejects (both Content-Length and
 * Transfer-Encoding, differing lengths, an unparsable size) the handler stops looking: the
 * decoder fails the message and ignores the rest of the connection.
 *
 * <p>Not thread safe: confined to the client channel's event loop.
 */
final class ObsFoldRejectingHandler extends ChannelInboundHandlerAdapter {
    private static final byte POISON = 0x01;
    private static final int MAX_KEPT_LINE = 512;

    private enum State { HEAD, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, PASS_THROUGH }

    private State state = State.HEAD;
    /** Header lines seen in the current head; 0 while on the request line. */
    private int lineIndex;
    private boolean atLineStart = true;
    private final StringBuilder line = new StringBuilder(64);
    private boolean lineTruncated;
    /** Whether the current line is kept as text (it may frame a body). */
    private boolean keepLine;
    private long lineLength;
    private byte lastByte;
    private long contentLength = -1;
    private boolean chunked;
    private boolean framingInDoubt;
    private long remaining;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf && state != State.PASS_THROUGH) {
            scan((ByteBuf) msg);
        }
        ctx.fireChannelRead(msg);
    }

    private void scan(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end && state != State.PASS_THROUGH) {
            switch (state) {
                case FIXED_BODY, CHUNK_DATA -> {
                    int skip = (int) Math.min(remaining, end - i);
                    i += skip;
                    remaining -= skip;
                    if (remaining == 0) {
                        state = state == State.FIXED_BODY ? State.HEAD : State.CHUNK_END;
                        resetLine();
                    }
                }
                default -> {
                    if (atLineStart) {
                        byte b = buf.getByte(i);
                        if ((b == ' ' || b == '\t')
                                && ((state == State.HEAD && lineIndex > 0) || state == State.TRAILERS)) {
                            buf.setByte(i, POISON);
                            state = State.PASS_THROUGH;
                            return;
                        }
                        atLineStart = false;
                        // Only the lines that frame a body are kept as text; the rest are skipped
                        // with a fast scan for their end.
                        int lower = b | 0x20;
                        keepLine = state == State.CHUNK_SIZE
                                || (state == State.HEAD && lineIndex > 0 && (lower == 'c' || lower == 't'));
                    }
                    int lf = buf.indexOf(i, end, (byte) '\n');
                    int stop = lf < 0 ? end : lf;
                    if (stop > i) {
                        lineLength += stop - i;
                        lastByte = buf.getByte(stop - 1);
                        if (keepLine) {
                            keep(buf, i, stop);
                        }
                    }
                    if (lf < 0) {
                        i = end;
                    } else {
                        i = lf + 1;
                        endOfLine();
                    }
                }
            }
        }
    }

    private void keep(ByteBuf buf, int from, int to) {
        for (int k = from; k < to; k++) {
            if (line.length() >= MAX_KEPT_LINE) {
                lineTruncated = true;
                return;
            }
            line.append((char) (buf.getByte(k) & 0xFF));
        }
    }

    private void endOfLine() {
        boolean empty = lineLength == 0 || (lineLength == 1 && lastByte == '\r');
        String text = null;
        if (keepLine) {
            int len = line.length();
            if (len > 0 && line.charAt(len - 1) == '\r') {
                line.setLength(len - 1);
            }
            text = line.toString();
        }
        boolean truncated = lineTruncated;
        resetLine();
        switch (state) {
            case HEAD -> headLine(empty, text, truncated);
            case CHUNK_SIZE -> chunkSizeLine(text, truncated);
            case CHUNK_END -> state = State.CHUNK_SIZE;
            case TRAILERS -> {
                if (empty) {
                    state = State.HEAD;
                }
            }
            default -> state = State.PASS_THROUGH;
        }
    }

    /** One line of a request head; {@code text} is null for lines that do not frame the body. */
    private void headLine(boolean empty, String text, boolean truncated) {
        if (empty) {
            if (lineIndex == 0) {
                return; // empty lines before a request line are ignored (RFC 9112 section 2.2)
            }
            startBody();
            return;
        }
        if (lineIndex++ == 0 || text == null) {
            return; // the request line, or a field that does not frame the body
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            return; // invalid; the decoder rejects it
        }
        String name = text.substring(0, colon);
        String value = text.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("content-length")) {
            long n = parseLength(value);
            if (truncated || n < 0 || (contentLength >= 0 && contentLength != n)) {
                framingInDoubt = true;
            }
            contentLength = n;
        } else if (name.equalsIgnoreCase("transfer-encoding")) {
            int comma = value.lastIndexOf(',');
            String last = (comma < 0 ? value : value.substring(comma + 1)).trim();
            if (truncated || !last.equalsIgnoreCase("chunked") || chunked) {
                framingInDoubt = true;
            }
            chunked = true;
        }
    }

    private void startBody() {
        if (framingInDoubt || (chunked && contentLength >= 0)) {
            state = State.PASS_THROUGH;
        } else if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (contentLength > 0) {
            remaining = contentLength;
            state = State.FIXED_BODY;
        } else {
            state = State.HEAD;
        }
        lineIndex = 0;
        contentLength = -1;
        chunked = false;
        framingInDoubt = false;
    }

    private void chunkSizeLine(String text, boolean truncated) {
        int semi = text.indexOf(';');
        String hex = (semi < 0 ? text : text.substring(0, semi)).trim();
        long size = -1;
        if (!truncated && !hex.isEmpty() && hex.length() <= 15) {
            try {
                size = Long.parseLong(hex, 16);
            } catch (NumberFormatException e) {
                size = -1;
            }
        }
        if (size < 0) {
            state = State.PASS_THROUGH;
        } else if (size == 0) {
            state = State.TRAILERS;
        } else {
            remaining = size;
            state = State.CHUNK_DATA;
        }
    }

    private static long parseLength(String value) {
        if (value.isEmpty() || value.length() > 18) {
            return -1;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        return Long.parseLong(value);
    }

    private void resetLine() {
        line.setLength(0);
        lineTruncated = false;
        atLineStart = true;
        keepLine = false;
        lineLength = 0;
        lastByte = 0;
    }
}
