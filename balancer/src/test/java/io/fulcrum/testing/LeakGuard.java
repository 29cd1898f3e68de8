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
 * Fails a test class when Netty's leak detector reports a leaked buffer while it ran. Registered
 * for every test class through JUnit's extension auto-detection
 * ({@code META-INF/services/org.junit.jupiter.api.extension.Extension}).
 *
 * <p>Netty logs each leak as an ERROR starting with {@code LEAK:} from
 * {@link ResourceLeakDetector}'s logger, and only when a later allocation notices that a tracked
 * buffer was collected unreleased. So after each class this guard runs the garbage collector a few
 * times and allocates and releases buffers to give the detector that chance, then fails if a report
 * was captured. The capturing appender lives in the root extension context's store (one per test
 * JVM, closed at the end of the run), not in a static field.
 *
 * <p>Thread-safe: reports may arrive from any thread.
 */
public final class LeakGuard implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LeakGuard.class);
    private static final int GC_ROUNDS = 4;

    @Override
    public void beforeAll(ExtensionContext context) {
        // Installs the appender before the class allocates anything. Reports that arrive late,
        // after an earlier class's check, stay captured and fail the next check rather than vanish.
        appender(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        LeakAppender appender = appender(context);
        for (int i = 0; i < GC_ROUNDS; i++) {
            System.gc();
            provokeDetection();
        }
        List<String> leaks = appender.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty buffer leak(s) reported by the end of "
                    + context.getDisplayName() + " (the record shows where each buffer was used):\n"
                    + String.join("\n\n", leaks));
        }
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

    private static LeakAppender appender(ExtensionContext context) {
        return context.getRoot().getStore(NS).getOrComputeIfAbsent(LeakAppender.class,
                k -> LeakAppender.install(), LeakAppender.class);
    }

    /** Captures leak reports; detached when the test run ends (the root store closes it). */
    static final class LeakAppender extends AppenderBase<ILoggingEvent> implements AutoCloseable {
        private final List<String> reports = new ArrayList<>();
        private Logger logger;

        static LeakAppender install() {
            LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
            LeakAppender appender = new LeakAppender();
            appender.setContext(lc);
            appender.setName("fulcrum-leak-guard");
            appender.start();
            Logger logger = lc.getLogger(ResourceLeakDetector.class.getName());
            // The detector only builds a report when ERROR is enabled for its logger.
            if (!logger.isErrorEnabled()) {
                logger.setLevel(Level.ERROR);
            }
            logger.addAppender(appender);
            appender.logger = logger;
            return appender;
        }

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

        @Override
        public void close() {
            if (logger != null) {
                logger.detachAppender(this);
            }
            stop();
        }
    }
}
