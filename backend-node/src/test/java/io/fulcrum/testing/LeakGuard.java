package io.fulcrum.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Netty's leak detector reports a leaked buffer while it ran (the idea of
 * Zuul's {@code CustomLeakDetector}). The one leak guard of both modules: the post server registers
 * it for its own test classes, and its test jar carries it to the balancer's, each through JUnit's
 * extension auto-detection ({@code META-INF/services/org.junit.jupiter.api.extension.Extension}).
 *
 * <p>Netty logs each leak as an ERROR starting with {@code LEAK:} from
 * {@link ResourceLeakDetector}'s logger, and only when a later allocation notices that a tracked
 * buffer was collected unreleased. So after each class this guard runs the garbage collector a few
 * times and allocates and releases buffers to give the detector that chance, then fails if a report
 * was captured. Surefire runs with {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer
 * is tracked. The recording appender is found on that logger by name, so there is one per test JVM
 * whichever class or module asks first.
 *
 * <p>Thread-safe: reports may arrive from any thread; JUnit calls the callbacks on one thread.
 */
public final class LeakGuard implements BeforeAllCallback, AfterAllCallback {
    private static final String APPENDER = "fulcrum-leak-guard";
    private static final String DETECTOR_LOGGER = ResourceLeakDetector.class.getName();
    private static final int GC_ROUNDS = 4;

    @Override
    public void beforeAll(ExtensionContext context) {
        // Installs the appender before the class allocates anything. Reports that arrive late,
        // after an earlier class's check, stay captured and fail the next check rather than vanish.
        recorder();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        List<String> leaks = flushAndDrain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty buffer leak(s) reported by the end of "
                    + context.getDisplayName() + " (the record shows where each buffer was used):\n"
                    + String.join("\n\n", leaks));
        }
    }

    /** Forces pending leak reports out and returns (and forgets) every report recorded so far. */
    public static List<String> flushAndDrain() {
        LeakRecorder recorder = recorder();
        for (int i = 0; i < GC_ROUNDS; i++) {
            System.gc();
            provokeDetection();
        }
        return recorder.drain();
    }

    /** Allocations are when the detector polls its queue of collected, unreleased buffers. */
    private static void provokeDetection() {
        for (int i = 0; i < 64; i++) {
            ByteBuf pooled = PooledByteBufAllocator.DEFAULT.buffer(256);
            pooled.release();
            ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(256);
            direct.release();
            ByteBuf unpooled = Unpooled.buffer(16);
            unpooled.release();
        }
    }

    private static LeakRecorder recorder() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger logger = context.getLogger(DETECTOR_LOGGER);
        synchronized (logger) {
            if (logger.getAppender(APPENDER) instanceof LeakRecorder existing) {
                return existing;
            }
            LeakRecorder recorder = new LeakRecorder();
            recorder.setName(APPENDER);
            recorder.setContext(context);
            recorder.start();
            logger.addAppender(recorder);
            // The detector only builds a report when ERROR is enabled for its logger.
            if (!logger.isEnabledFor(Level.ERROR)) {
                logger.setLevel(Level.ERROR);
            }
            return recorder;
        }
    }

    /** Keeps the text of every leak report. Thread-safe. */
    private static final class LeakRecorder extends AppenderBase<ILoggingEvent> {
        private final List<String> reports = new ArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            String message = event.getFormattedMessage();
            if (message != null && message.contains("LEAK:")) {
                synchronized (reports) {
                    reports.add(message);
                }
            }
        }

        List<String> drain() {
            synchronized (reports) {
                List<String> copy = List.copyOf(reports);
                reports.clear();
                return copy;
            }
        }
    }
}
