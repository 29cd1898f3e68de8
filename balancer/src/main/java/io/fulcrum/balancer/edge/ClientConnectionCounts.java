package io.fulcrum.balancer.edge;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Open client connections per client address, for {@code limits.connections-per-client} (nginx's
 * {@code limit_conn}, HAProxy's {@code src_conn_cur}): one address cannot take every slot of
 * {@code limits.max-connections}.
 *
 * <p>An address has an entry only while it has a connection open: the last close removes it, so
 * the table holds at most as many entries as there are connections and never grows with the
 * addresses seen. A count is changed by compare-and-set on its own counter, never under a lock:
 * opening a connection from an address already in the table is a map read and one CAS. An entry
 * whose count reached zero is marked {@link #REMOVED} before it leaves the table, so that an open
 * racing with that last close never counts on an entry on its way out; it removes the marked entry
 * itself and starts a new one.
 *
 * <p>Thread-safe: every event loop opens and closes connections here at once.
 */
public final class ClientConnectionCounts {
    private static final int REMOVED = -1;

    private final ConcurrentHashMap<InetAddress, AtomicInteger> open = new ConcurrentHashMap<>();
    private final LongAdder refused = new LongAdder();

    /**
     * Counts a new connection from {@code address}, or refuses it (and counts the refusal) when
     * {@code cap} are open from there already. Each {@code true} is matched by one {@link #close}.
     */
    public boolean tryOpen(InetAddress address, int cap) {
        while (true) {
            AtomicInteger count = open.computeIfAbsent(address, a -> new AtomicInteger());
            int n = count.get();
            if (n == REMOVED) {
                // Its last connection just closed: help the entry out and start a new one.
                open.remove(address, count);
                continue;
            }
            if (n >= cap) {
                refused.increment();
                return false;
            }
            if (count.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** A connection {@link #tryOpen} counted has closed. */
    public void close(InetAddress address) {
        AtomicInteger count = open.get(address);
        if (count != null && count.decrementAndGet() == 0 && count.compareAndSet(0, REMOVED)) {
            open.remove(address, count);
        }
    }

    /** Connections open now from {@code address} (0 when it has none). */
    int open(InetAddress address) {
        AtomicInteger count = open.get(address);
        return count == null ? 0 : Math.max(0, count.get());
    }

    /** Addresses with a connection open now. */
    public int addresses() {
        return open.size();
    }

    /** Connections refused since start. */
    public long refused() {
        return refused.sum();
    }
}
