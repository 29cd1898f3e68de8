package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.RateLimitConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The token-bucket table on an explicit clock: refusal, Retry-After, refill, keys, bound, eviction, threads. */
class RateLimiterTest {
    private static final long SECOND = 1_000_000_000L;

    private static RateLimiter limiter(double perSecond, long burst, int maxKeys) {
        return new RateLimiter(new RateLimitConfig(perSecond + "/s", perSecond, burst, null, maxKeys));
    }

    @Test
    void aKeyGetsItsBurstThenWaitsForTheRate() {
        RateLimiter l = limiter(2, 3, 100);
        long t = 5 * SECOND;
        assertEquals(0, l.acquire("a", t));
        assertEquals(0, l.acquire("a", t));
        assertEquals(0, l.acquire("a", t));
        assertEquals(1, l.acquire("a", t), "half a second to the next token, rounded up");
        assertEquals(1, l.limited());
        assertEquals(1, l.acquire("a", t + SECOND / 4), "a quarter second is not a token");
        assertEquals(0, l.acquire("a", t + SECOND / 2), "refilled at 2 a second");
        assertEquals(1, l.acquire("a", t + SECOND / 2));
        assertEquals(0, l.acquire("a", t + 100 * SECOND));
        assertEquals(0, l.acquire("a", t + 100 * SECOND));
        assertEquals(0, l.acquire("a", t + 100 * SECOND));
        assertEquals(1, l.acquire("a", t + 100 * SECOND), "refill stops at the burst");
    }

    @Test
    void retryAfterIsTheWaitForOneTokenInWholeSeconds() {
        RateLimiter perMinute = new RateLimiter(new RateLimitConfig("1/m", 1.0 / 60, 1, null, 10));
        assertEquals(0, perMinute.acquire("a", 0));
        assertEquals(60, perMinute.acquire("a", 0));
        assertEquals(30, perMinute.acquire("a", 30 * SECOND));
        assertEquals(1, perMinute.acquire("a", 59 * SECOND + SECOND / 2));
        assertEquals(0, perMinute.acquire("a", 60 * SECOND));
    }

    @Test
    void keysHaveBucketsOfTheirOwn() {
        RateLimiter l = limiter(1, 1, 100);
        assertEquals(0, l.acquire("a", 0));
        assertTrue(l.acquire("a", 0) > 0);
        assertEquals(0, l.acquire("b", 0), "a's empty bucket is not b's");
        assertTrue(l.acquire("b", 0) > 0);
        assertEquals(2, l.keys());
    }

    @Test
    void theTableNeverHoldsMoreThanMaxKeys() {
        RateLimiter l = limiter(1, 1, 1000);
        assertEquals(1000, l.capacity());
        for (int i = 0; i < 200_000; i++) {
            assertEquals(0, l.acquire("10.0." + (i >> 8) + "." + (i & 255), i));
        }
        assertTrue(l.keys() <= 1000, "keys: " + l.keys());
        assertTrue(l.keys() > 900, "the table is used, not emptied: " + l.keys());
    }

    @Test
    void aNewKeyTakesTheSlotOfAFullBucketAndLeavesLimitedKeysAlone() {
        // One segment of eight slots: every key's probe run is the whole table.
        RateLimiter l = limiter(1, 1, 8);
        for (int i = 0; i < 8; i++) {
            assertEquals(0, l.acquire("k" + i, 0));
        }
        assertEquals(8, l.keys());
        long later = 10 * SECOND;
        assertEquals(0, l.acquire("k7", later), "k7 is limited again; the other seven refilled");
        for (int i = 0; i < 7; i++) {
            assertEquals(0, l.acquire("new" + i, later), "a new key evicts a full bucket");
        }
        assertTrue(l.acquire("k7", later) > 0, "k7 kept its empty bucket");
        assertEquals(0, l.lossyEvictions());
        assertEquals(8, l.keys());

        // Every bucket is empty now: a new key has to take one that is not full, and that is counted.
        assertEquals(0, l.acquire("late", later));
        assertEquals(1, l.lossyEvictions());
        assertEquals(8, l.keys());
    }

    @Test
    void threadsTogetherGetExactlyTheBurst() throws Exception {
        RateLimiter l = limiter(1, 100, 1000);
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> granted = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                granted.add(pool.submit(() -> {
                    start.await();
                    int n = 0;
                    for (int i = 0; i < 1000; i++) {
                        if (l.acquire("shared", 7 * SECOND) == 0) {
                            n++;
                        }
                        l.acquire("own-" + Thread.currentThread().getId() + "-" + (i % 50), 7 * SECOND);
                    }
                    return n;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : granted) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(100, total, "no token is taken twice, none is lost");
            // Each thread's own keys get 20 requests each against a burst of 100: never limited.
            assertEquals(threads * 1000 - 100, l.limited());
        } finally {
            pool.shutdownNow();
        }
    }
}
