package io.fulcrum.balancer.proxy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AsyncAppenderBase;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.classic.AsyncAppender;
import org.slf4j.LoggerFactory;

/**
 * One line per finished request, in logfmt:
 * {@code client=10.0.0.7 method=GET uri="/posts/1" status=200 backend=us-1 attempts=1 duration_ms=1.204 request_id=…}.
 * Lines go through an asynchronous appender that drops rather than blocks when its queue is full,
 * so an event loop never waits for the disk or the terminal. Thread-safe.
 */
public final class AccessLog {
    /** Logs nothing ({@code access-log: off}). */
    public static final AccessLog OFF = new AccessLog(null, null);

    private static final int QUEUE_SIZE = 8192;

    private final Logger logger;
    private final AsyncAppenderBase<ILoggingEvent> appender;

    private AccessLog(Logger logger, AsyncAppenderBase<ILoggingEvent> appender) {
        this.logger = logger;
        this.appender = appender;
    }

    /** {@code stdout}, {@code off} or a file path, as in the config's {@code access-log}. */
    public static AccessLog create(String target) {
        if ("off".equals(target) || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext)) {
            return OFF;
        }
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %msg%n");
        encoder.start();
        OutputStreamAppender<ILoggingEvent> sink;
        if ("stdout".equals(target)) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            sink = console;
        } else {
            FileAppender<ILoggingEvent> file = new FileAppender<>();
            file.setFile(target);
            file.setAppend(true);
            sink = file;
        }
        sink.setContext(context);
        sink.setName("fulcrum-access-sink");
        sink.setEncoder(encoder);
        sink.start();
        AsyncAppender async = new AsyncAppender();
        async.setContext(context);
        async.setName("fulcrum-access");
        async.setQueueSize(QUEUE_SIZE);
        async.setDiscardingThreshold(0);
        async.setNeverBlock(true);
        async.setIncludeCallerData(false);
        async.addAppender(sink);
        async.start();
        Logger logger = context.getLogger("fulcrum.access." + Integer.toHexString(System.identityHashCode(async)));
        logger.setAdditive(false);
        logger.addAppender(async);
        return new AccessLog(logger, async);
    }

    public boolean enabled() {
        return logger != null;
    }

    /** Records one finished request. Cheap when off. */
    public void log(String client, String method, String uri, int status, String backend, int attempts,
            long durationNanos, String requestId) {
        Logger l = logger;
        if (l == null) {
            return;
        }
        StringBuilder line = new StringBuilder(160)
                .append("client=").append(client)
                .append(" method=").append(method)
                .append(" uri=\"");
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '"' || c == '\\') {
                line.append('\\');
            }
            line.append(c);
        }
        line.append("\" status=").append(status)
                .append(" backend=").append(backend == null ? "-" : backend)
                .append(" attempts=").append(attempts)
                .append(" duration_ms=").append(durationNanos / 1_000_000).append('.');
        long micros = (durationNanos / 1000) % 1000;
        if (micros < 100) {
            line.append('0');
        }
        if (micros < 10) {
            line.append('0');
        }
        line.append(micros).append(" request_id=").append(requestId);
        l.info(line.toString());
    }

    /** Flushes and stops the appender. */
    public void close() {
        if (appender != null) {
            appender.stop();
            logger.detachAndStopAllAppenders();
        }
    }
}
