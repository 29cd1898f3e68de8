package io.fulcrum.balancer.exchange;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * The request body of one exchange, as far as it must be kept: while the body stays within the
 * replay limit every part is kept (each try is sent duplicates), so a retry can send it again;
 * past the limit, parts already sent are dropped and the rest are kept only until sent, and the
 * request can no longer be replayed once any of it reached a backend.
 *
 * <p>Owns the parts it holds: {@link #release()} frees whatever is left. Not thread safe:
 * confined to the client connection's event loop.
 */
final class ReplayBuffer {
    private final List<HttpContent> parts = new ArrayList<>(2);
    private final long replayLimit;
    private long bytes;
    /** Parts of {@link #parts} already written to the current try. */
    private int written;
    private boolean replayable = true;
    private boolean complete;

    ReplayBuffer(long replayLimit) {
        this.replayLimit = replayLimit;
    }

    /** Whether the last part has been received. */
    boolean complete() {
        return complete;
    }

    /** Whether the whole body is still held, so the request can be sent to another backend. */
    boolean replayable() {
        return replayable;
    }

    /** Counts a part about to be received, so the caller can refuse a body past its limit first. */
    long bytesWith(HttpContent part) {
        return bytes + part.content().readableBytes();
    }

    /** Takes ownership of the next part of the body. */
    void add(HttpContent part) {
        bytes += part.content().readableBytes();
        if (part instanceof LastHttpContent) {
            complete = true;
        }
        if (replayable && bytes > replayLimit) {
            stopKeeping();
        }
        parts.add(part);
    }

    /**
     * Writes to {@code ch} the parts the current try has not had yet: retained duplicates while the
     * body is replayable, the parts themselves (ownership passing to the channel) after.
     */
    void writeTo(Channel ch) {
        if (replayable) {
            for (int i = written; i < parts.size(); i++) {
                ch.write(parts.get(i).retainedDuplicate(), ch.voidPromise());
            }
            written = parts.size();
        } else {
            for (int i = 0; i < parts.size(); i++) {
                ch.write(parts.get(i), ch.voidPromise());
            }
            parts.clear();
            written = 0;
        }
    }

    /** A new try starts: nothing of the body has been written to it. */
    void rewind() {
        written = 0;
    }

    /** The body grew past the replay limit: parts already sent are dropped, the rest kept until sent. */
    private void stopKeeping() {
        replayable = false;
        for (int i = 0; i < written; i++) {
            parts.get(i).release();
        }
        parts.subList(0, written).clear();
        written = 0;
    }

    /** Frees every part still held. */
    void release() {
        for (int i = 0; i < parts.size(); i++) {
            ReferenceCountUtil.release(parts.get(i));
        }
        parts.clear();
        written = 0;
    }
}
