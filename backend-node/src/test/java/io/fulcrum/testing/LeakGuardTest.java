package io.fulcrum.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Proves the guard sees a real leak; it drains what it saw so that this class itself passes. */
class LeakGuardTest {
    @Test
    void recordsALeakedBuffer() {
        assumeTrue(ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID,
                "needs -Dio.netty.leakDetection.level=paranoid (set by surefire)");
        leakOneBuffer();
        List<String> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            seen.addAll(LeakGuard.flushAndDrain());
            assertFalse(seen.isEmpty(), "the leaked buffer was not reported");
        });
    }

    private static void leakOneBuffer() {
        ByteBuf leaked = UnpooledByteBufAllocator.DEFAULT.directBuffer(8);
        leaked.writeLong(42);
        // Dropped without release(): exactly the bug the guard exists to catch.
    }
}
