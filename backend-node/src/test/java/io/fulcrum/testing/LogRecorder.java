package io.fulcrum.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/**
 * Records what the code under test logs under one logger name (and its children), so that a test can
 * assert that a path logs no stack trace. Attach in {@code @BeforeEach}, {@link #close()} in
 * {@code @AfterEach}.
 *
 * <p>Thread-safe: logback's list appender is synchronised; the copy is taken under its lock.
 */
public final class LogRecorder implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogRecorder(String name) {
        this.logger = (Logger) LoggerFactory.getLogger(name);
        appender.setName("fulcrum-log-recorder");
        appender.start();
        logger.addAppender(appender);
    }

    /** Starts recording the events of {@code name} and its children. */
    public static LogRecorder of(String name) {
        return new LogRecorder(name);
    }

    /** Every event recorded with a stack trace, as "LEVEL logger: message" lines. */
    public List<String> withStackTraces() {
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getThrowableProxy() != null)
                    .map(e -> e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage())
                    .collect(Collectors.toList());
        }
    }

    /** Every event recorded, as "LEVEL logger: message" lines, in order. */
    public List<String> lines() {
        synchronized (appender) {
            return appender.list.stream()
                    .map(e -> e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage())
                    .collect(Collectors.toList());
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
