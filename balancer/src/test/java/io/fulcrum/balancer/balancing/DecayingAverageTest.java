package io.fulcrum.balancer.balancing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The series the averages use for small intervals agrees with the JDK's exp and expm1. */
class DecayingAverageTest {
    @Test
    void expAndExpm1AgreeWithTheJdkNearZeroAndFarFromIt() {
        for (double x = 0; x > -50; x = x == 0 ? -1e-12 : x * 1.37) {
            double expected = Math.expm1(x);
            assertEquals(expected, DecayingAverage.expm1(x), Math.abs(expected) * 1e-14, "expm1(" + x + ")");
            assertEquals(Math.exp(x), DecayingAverage.exp(x), Math.exp(x) * 1e-14, "exp(" + x + ")");
        }
        assertEquals(-0.05 + 0.00125 - 0.05 * 0.05 * 0.05 / 6, DecayingAverage.expm1(-0.05), 1e-6);
    }

    @Test
    void aMeanFollowsItsSamplesAndAReadFadesIt() {
        long second = 1_000_000_000L;
        DecayingAverage mean = DecayingAverage.mean(10 * second, 10 * second, 0);
        mean.add(100, 0, false);
        assertEquals(100, mean.value(0), 1e-9, "the first sample is taken whole");
        // A sample 10 µs later weighs 1 - exp(-1e-6).
        mean.add(200, 10_000, false);
        assertEquals(100 + 100 * -Math.expm1(-1e-6), mean.value(10_000), 1e-9);
        // Read 10 s later, the estimate has faded by e.
        assertEquals(mean.value(10_000) / Math.E, mean.value(10_000 + 10 * second), 1e-9);
    }
}
