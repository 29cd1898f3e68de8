package io.fulcrum.balancer.http1;

import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The messages of pipelined requests (RFC 9112 section 9.3) that arrived while an earlier request
 * was still being answered, oldest first: {@link Http1Frontend} serves them one after another, in
 * order, as each exchange ends. The queue itself is made on the first such message, so a client
 * that does not pipeline costs none. What is queued is owned here until taken or released.
 *
 * <p>Not thread safe: one per client connection, confined to its event loop.
 */
final class PipelinedRequests {
    private ArrayDeque<Object> queued;

    boolean isEmpty() {
        return queued == null || queued.isEmpty();
    }

    void add(Object msg) {
        if (queued == null) {
            queued = new ArrayDeque<>(4);
        }
        queued.add(msg);
    }

    /** The oldest message, now the caller's, or {@code null}. */
    Object poll() {
        return queued == null ? null : queued.poll();
    }

    /** Drops everything queued: the connection is closing and will serve none of it. */
    void releaseAll() {
        if (queued != null) {
            Object msg;
            while ((msg = queued.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
