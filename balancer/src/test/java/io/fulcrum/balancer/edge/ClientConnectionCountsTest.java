package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The per-address connection counts: the cap holds under threads racing, and empty entries leave. */
class ClientConnectionCountsTest {
    private static InetAddress address(int i) throws Exception {
        return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) i});
    }

    @Test
    void refusesPastTheCapAndForgetsAnAddressWithNoConnection() throws Exception {
        ClientConnectionCounts counts = new ClientConnectionCounts();
        InetAddress a = address(1);
        assertTrue(counts.tryOpen(a, 2));
        assertTrue(counts.tryOpen(a, 2));
        assertFalse(counts.tryOpen(a, 2));
        assertTrue(counts.tryOpen(address(2), 2));
        assertEquals(2, counts.addresses());
        counts.close(a);
        assertTrue(counts.tryOpen(a, 2));
        counts.close(a);
        counts.close(a);
        counts.close(address(2));
        assertEquals(0, counts.addresses());
        assertEquals(1, counts.refused());
    }

    @Test
    void theCapHoldsAndTheTableEmptiesWhenThreadsOpenAndCloseAtOnce() throws Exception {
        ClientConnectionCounts counts = new ClientConnectionCounts();
        int cap = 3;
        int threads = 8;
        InetAddress[] addresses = {address(1), address(2)};
        // What each address really holds, checked against the cap after every open.
        AtomicIntegerArray held = new AtomicIntegerArray(addresses.length);
        AtomicInteger overCap = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < 20_000; i++) {
                        int k = (seed + i) % addresses.length;
                        if (counts.tryOpen(addresses[k], cap)) {
                            if (held.incrementAndGet(k) > cap) {
                                overCap.incrementAndGet();
                            }
                            held.decrementAndGet(k);
                            counts.close(addresses[k]);
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, overCap.get());
        assertEquals(0, counts.addresses());
        assertEquals(0, counts.open(addresses[0]));
    }
}
