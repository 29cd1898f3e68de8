package io.fulcrum.balancer.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pool's observed time to a response head, behind {@code hedge.delay: p95}. */
class HeadLatenciesTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void noP95BeforeEnoughSamples() {
        HeadLatencies h = new HeadLatencies();
        for (int i = 1; i < HeadLatencies.MIN_SAMPLES; i++) {
            h.record(5 * MS);
        }
        assertEquals(-1, h.p95Nanos());
        h.record(5 * MS);
        assertTrue(h.p95Nanos() >= 5 * MS && h.p95Nanos() <= 6 * MS, h.p95Nanos() + " ns");
    }

    @Test
    void theP95IsTheEdgeOfTheBucketOfTheNinetyFifthPercentile() {
        HeadLatencies h = new HeadLatencies();
        // 94 fast answers and 6 slow ones: the p95 is among the slow.
        for (int i = 0; i < 94; i++) {
            h.record(2 * MS);
        }
        for (int i = 0; i < 6; i++) {
            h.record(400 * MS);
        }
        // 100 samples: computed at the last multiple of the refresh interval, 96, with 2 slow ones.
        for (int i = 0; i < 12; i++) {
            h.record(400 * MS);
        }
        long p95 = h.p95Nanos();
        assertTrue(p95 > 400 * MS && p95 <= 400 * MS * 5 / 4, p95 + " ns");
    }

    @Test
    void oldSamplesFadeAsCountsHalve() {
        HeadLatencies h = new HeadLatencies();
        for (int i = 0; i < HeadLatencies.WINDOW; i++) {
            h.record(300 * MS);
        }
        for (int i = 0; i < 4 * HeadLatencies.WINDOW; i++) {
            h.record(3 * MS);
        }
        assertTrue(h.p95Nanos() < 4 * MS, h.p95Nanos() + " ns");
    }

    @Test
    void bucketsAreOrderedAndTheirEdgesBoundTheirSamples() {
        long previous = -1;
        for (long micros = 1; micros < 1L << 36; micros = micros * 9 / 8 + 1) {
            int b = HeadLatencies.bucket(micros * 1000);
            assertTrue(b >= previous, micros + " µs");
            previous = b;
            assertTrue(HeadLatencies.upperEdgeNanos(b) > micros * 1000 || micros < 4, micros + " µs");
        }
    }
}
