package io.fulcrum.node.store;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How far in the primary's history one client has seen, for read-your-writes and monotonic reads.
 *
 * <p>{@link #required()} comes with the request (the consistency token: the position after the
 * client's last write, or the lowest position its last read was known to reflect); a read must be
 * served by a copy that has replayed at least that far. While the request runs, the store raises
 * {@link #seen()} to what its write or read is known to reflect, and the HTTP layer hands that back as
 * the next token. Positions are {@link WalPosition} numbers; 0 means none.
 *
 * <p>One instance per request. Written by a store worker, read by the event loop after the request's
 * future completed; the atomic makes that hand-over safe whatever the executor.
 */
public final class ClientPosition {
    private final long required;
    private final AtomicLong seen = new AtomicLong();

    /** A request that must see at least {@code required} (0: no requirement). */
    public ClientPosition(long required) {
        this.required = required;
    }

    /** A request without a token. */
    public static ClientPosition none() {
        return new ClientPosition(0);
    }

    /** The position the request must see. */
    public long required() {
        return required;
    }

    /** Records that the request's answer reflects at least {@code position}. */
    public void observe(long position) {
        seen.accumulateAndGet(position, (a, b) -> WalPosition.after(b, a) ? b : a);
    }

    /** The highest position recorded, or 0 when the store gave none (SQLite, or a primary-only node). */
    public long seen() {
        return seen.get();
    }
}
