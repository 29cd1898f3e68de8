package io.fulcrum.balancer.edge;

import static io.netty.handler.codec.http2.Http2CodecUtil.FRAME_HEADER_LENGTH;
import static io.netty.handler.codec.http2.Http2Flags.END_HEADERS;
import static io.netty.handler.codec.http2.Http2FrameTypes.CONTINUATION;
import static io.netty.handler.codec.http2.Http2FrameTypes.HEADERS;
import static io.netty.handler.codec.http2.Http2FrameTypes.PUSH_PROMISE;

import io.netty.buffer.ByteBuf;

/**
 * Follows the frames an HTTP/2 client sends, as they arrive, only far enough to see where each
 * header block begins and ends, for the request-head deadline ({@link HeadDeadline}): a block
 * begins with a HEADERS frame and ends with the frame that carries END_HEADERS, that frame or a
 * CONTINUATION (RFC 9113 sections 6.2 and 6.10). It reads frame headers only (nine bytes a frame)
 * and skips payloads; the connection handler parses and checks every frame as usual, and a
 * connection whose frames do not parse is closed by it, so nothing here can fail.
 *
 * <p>Not thread safe: confined to the connection's event loop.
 */
public final class HeaderBlockWatch {
    /** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 section 3.4). */
    private static final int CLIENT_PREFACE_BYTES = 24;

    private final HeadDeadline deadline;
    /** Bytes of the client's connection preface still to skip (RFC 9113 section 3.4). */
    private int prefaceLeft = CLIENT_PREFACE_BYTES;
    private final byte[] header = new byte[FRAME_HEADER_LENGTH];
    private int headerBytes;
    private long payloadLeft;
    /** The frame being read ends a header block when its payload is complete. */
    private boolean endsBlock;
    private boolean blockOpen;

    public HeaderBlockWatch(HeadDeadline deadline) {
        this.deadline = deadline;
    }

    /** Whether a header block has begun and not ended. */
    public boolean blockOpen() {
        return blockOpen;
    }

    /** Looks at bytes just received, before the connection handler reads them; consumes nothing. */
    public void onBytes(ByteBuf in) {
        int i = in.readerIndex();
        int end = in.writerIndex();
        while (i < end) {
            if (prefaceLeft > 0) {
                int n = Math.min(prefaceLeft, end - i);
                prefaceLeft -= n;
                i += n;
            } else if (headerBytes < FRAME_HEADER_LENGTH) {
                header[headerBytes++] = in.getByte(i++);
                if (headerBytes == FRAME_HEADER_LENGTH) {
                    onFrameHeader();
                }
            } else {
                int n = (int) Math.min(payloadLeft, end - i);
                payloadLeft -= n;
                i += n;
                if (payloadLeft == 0) {
                    endFrame();
                }
            }
        }
    }

    private void onFrameHeader() {
        payloadLeft = ((header[0] & 0xFF) << 16) | ((header[1] & 0xFF) << 8) | (header[2] & 0xFF);
        byte type = header[3];
        boolean endHeaders = (header[4] & END_HEADERS) != 0;
        if (type == HEADERS || type == PUSH_PROMISE) {
            blockOpen = true;
            deadline.headBegun();
            endsBlock = endHeaders;
        } else {
            endsBlock = type == CONTINUATION && endHeaders;
        }
        if (payloadLeft == 0) {
            endFrame();
        }
    }

    private void endFrame() {
        headerBytes = 0;
        if (endsBlock) {
            endsBlock = false;
            blockOpen = false;
            deadline.headReceived();
        }
    }
}
