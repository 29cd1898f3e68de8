package io.fulcrum.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Netty reported a leaked buffer while it ran (the idea of Zuul's
 * {@code CustomLeakDetector}). Registered for every test class through
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension}.
 *
 * <p>Netty reports a leak by logging "LEAK: ..." at ERROR on {@code io.netty.util.ResourceLeakDetector}
 * when a tracked buffer is garbage collected unreleased; the report happens on a later allocation.
 * This guard attaches a recording appender to that logger, and after each class collects garbage and
 * allocates a few buffers so that pending reports are flushed, then fails if any was recorded.
 * Surefire runs with {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer is tracked.
 *
 * <p>Thread-safe: the appender is synchronised by logback; JUnit calls the callbacks on one thread.
 */
public final class NettyLeakGuard implements BeforeAllCallback, AfterAllCallback {
    private static final String APPENDER = "fulcrum-leak-guard";
    private static final String DETECTOR_LOGGER = ResourceLeakDetector.class.getName();
    private static final int FLUSH_ROUNDS = 3;

    @Override
    public void beforeAll(ExtensionContext context) {
        recorder().drain();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        List<String> leaks = flushAndDrain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty buffer leak(s) reported while running "
                    + context.getDisplayName() + ":\n" + String.join("\n", leaks));
        }
    }

    /** Forces pending leak reports out and returns (and forgets) every report recorded so far. */
    public static List<String> flushAndDrain() {
        for (int i = 0; i < FLUSH_ROUNDS; i++) {
            System.gc();
            // A tracked allocation makes the detector poll its reference queue and log collected leaks.
            ByteBuf pooled = PooledByteBufAllocator.DEFAULT.buffer(16);
            pooled.release();
            ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.directBuffer(16);
            unpooled.release();
        }
        return recorder().drain();
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
            if (!logger.isEnabledFor(Level.ERROR)) {
                logger.setLevel(Level.ERROR);
            }
            return recorder;
        }
    }

    /** Keeps the text of every leak report. Thread-safe (logback synchronises {@code append}). */
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
