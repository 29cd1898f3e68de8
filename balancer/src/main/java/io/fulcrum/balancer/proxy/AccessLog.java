package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.metrics.RequestRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per finished request, as a JSON object (the default) or in logfmt, to stdout or a file.
 *
 * <p>The request path only offers the finished request's {@link RequestRecord} to a bounded queue;
 * a writer thread of its own takes them in batches, formats them into one reused buffer
 * ({@link AccessLogLine}), writes each batch with one call and flushes whenever the queue runs
 * empty. The writer is never woken by the request path: it sleeps 1 ms between empty polls, up to
 * 50 ms while the log stays quiet, so a line is written at most that late. An event loop never
 * formats, waits for the disk or the terminal, makes a system call for the log, or blocks: when the
 * writer falls behind by {@value #QUEUE_SIZE} lines, new lines are dropped and counted
 * ({@link #dropped()}, published as {@code fulcrum_access_log_dropped_total}).
 *
 * <p>Thread-safe.
 */
public final class AccessLog {
    /** Logs nothing ({@code access-log: off}). */
    public static final AccessLog OFF = new AccessLog();

    /** How a line is written. */
    public enum Format {
        /** One JSON object per line. */
        JSON,
        /** {@code key=value} pairs, values with spaces or quotes quoted. */
        LOGFMT
    }

    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final int QUEUE_SIZE = 8192;
    /** Lines taken from the queue at a time. */
    private static final int BATCH = 256;
    /** Buffered bytes written out before the batch ends. */
    private static final int FLUSH_BYTES = 32 * 1024;
    private static final long MIN_IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final BlockingQueue<RequestRecord> queue;
    private final OutputStream out;
    private final boolean closeOut;
    private final Format format;
    private final Thread writer;
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closing;

    private AccessLog() {
        queue = null;
        out = null;
        closeOut = false;
        format = Format.JSON;
        writer = null;
    }

    private AccessLog(OutputStream out, boolean closeOut, Format format) {
        this.queue = new ArrayBlockingQueue<>(QUEUE_SIZE);
        this.out = out;
        this.closeOut = closeOut;
        this.format = format;
        this.writer = new Thread(this::run, "fulcrum-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    /** {@code stdout}, {@code off} or a file path, as in the config's {@code access-log}; JSON lines. */
    public static AccessLog create(String target) {
        return create(target, Format.JSON);
    }

    /**
     * @param target {@code stdout}, {@code off} or a file path (appended to, created if absent)
     * @param format the line format
     */
    public static AccessLog create(String target, Format format) {
        if ("off".equals(target)) {
            return OFF;
        }
        if ("stdout".equals(target)) {
            return new AccessLog(System.out, false, format);
        }
        try {
            OutputStream file = Files.newOutputStream(Path.of(target), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            return new AccessLog(file, true, format);
        } catch (IOException e) {
            throw new UncheckedIOException("access-log: cannot open " + target + ": " + e.getMessage(), e);
        }
    }

    public boolean enabled() {
        return queue != null;
    }

    public Format format() {
        return format;
    }

    /** Hands one finished request to the writer; drops it (counted) when the writer is behind. */
    public void log(RequestRecord record) {
        BlockingQueue<RequestRecord> q = queue;
        if (q != null && !closing && !q.offer(record)) {
            dropped.increment();
        }
    }

    /** Lines dropped because the queue was full. */
    public long dropped() {
        return dropped.sum();
    }

    /** Writes what is queued, flushes, and stops the writer (at most 5 s). */
    public void close() {
        if (writer == null || closing) {
            return;
        }
        closing = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        List<RequestRecord> batch = new ArrayList<>(BATCH);
        AccessLogLine lines = new AccessLogLine(64 * 1024);
        long idleNanos = MIN_IDLE_NANOS;
        try {
            while (true) {
                queue.drainTo(batch, BATCH);
                if (batch.isEmpty()) {
                    out.flush();
                    if (closing) {
                        break;
                    }
                    // Nothing to write: sleep, longer while it stays quiet. The request path never
                    // wakes this thread, so logging a line costs an event loop no system call.
                    LockSupport.parkNanos(idleNanos);
                    idleNanos = Math.min(idleNanos * 2, MAX_IDLE_NANOS);
                    continue;
                }
                idleNanos = MIN_IDLE_NANOS;
                for (RequestRecord r : batch) {
                    write(r, lines);
                    if (lines.length() >= FLUSH_BYTES) {
                        lines.writeTo(out);
                    }
                }
                batch.clear();
                lines.writeTo(out);
            }
        } catch (IOException | RuntimeException e) {
            log.error("access log writer stopped: {}", e.toString());
        } finally {
            if (closeOut) {
                try {
                    out.close();
                } catch (IOException e) {
                    log.warn("access log close failed: {}", e.toString());
                }
            }
        }
    }

    /** Formats one line (newline included) onto {@code lines}. */
    void write(RequestRecord r, AccessLogLine lines) {
        if (format == Format.JSON) {
            lines.json(r);
        } else {
            lines.logfmt(r);
        }
    }

    /** One line in the given format, newline included. */
    static String format(RequestRecord r, Format format) {
        AccessLogLine line = new AccessLogLine(512);
        if (format == Format.JSON) {
            line.json(r);
        } else {
            line.logfmt(r);
        }
        return line.toString();
    }
}
