package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The connection's response timer keeps the earliest deadline it was asked for, on a clock that
 * may be anywhere in its range: {@link System#nanoTime()} may start near {@link Long#MAX_VALUE},
 * and deadlines after it then wrap to negative numbers. The timer's loop is an
 * {@link EmbeddedChannel}'s with its time frozen, moved along with the test's clock.
 */
class DeadlineTimerTest {
    private static final long SECOND = 1_000_000_000L;

    private final EmbeddedChannel loop = new EmbeddedChannel();
    private long now;
    private int fired;

    @BeforeEach
    void freeze() {
        loop.freezeTime();
    }

    @AfterEach
    void close() {
        loop.finishAndReleaseAll();
    }

    private DeadlineTimer timer(long start) {
        now = start;
        return new DeadlineTimer(() -> now, () -> fired++);
    }

    private void advance(long nanos) {
        now += nanos;
        loop.advanceTimeBy(nanos, TimeUnit.NANOSECONDS);
        loop.runScheduledPendingTasks();
    }

    @ParameterizedTest
    @ValueSource(longs = {0, Long.MAX_VALUE - SECOND - SECOND / 2, Long.MAX_VALUE, Long.MIN_VALUE, -SECOND})
    void anEarlierDeadlineMovesTheTimerForward(long start) {
        DeadlineTimer t = timer(start);
        t.arm(loop.eventLoop(), start + 2 * SECOND);
        t.arm(loop.eventLoop(), start + SECOND);

        advance(SECOND);
        assertEquals(1, fired, "fired at the earlier deadline");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, Long.MAX_VALUE - SECOND - SECOND / 2, Long.MAX_VALUE, Long.MIN_VALUE, -SECOND})
    void aLaterDeadlineLeavesTheTimerWhereItIs(long start) {
        DeadlineTimer t = timer(start);
        t.arm(loop.eventLoop(), start + SECOND);
        t.arm(loop.eventLoop(), start + 2 * SECOND);

        advance(SECOND);
        assertEquals(1, fired, "still fires at the earlier deadline");
        advance(SECOND);
        assertEquals(1, fired, "and only then: the later deadline is the firing's to re-arm");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, Long.MAX_VALUE - SECOND / 2, Long.MIN_VALUE})
    void aFiredTimerIsArmedAgainForTheNextDeadline(long start) {
        DeadlineTimer t = timer(start);
        t.arm(loop.eventLoop(), start + SECOND);
        advance(SECOND);
        t.arm(loop.eventLoop(), now + SECOND);
        advance(SECOND);
        assertEquals(2, fired);
    }
}
