package io.fulcrum.balancer.accesslog;

import io.fulcrum.balancer.metrics.RequestRecord;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per finished request, as a JSON object (the default) or in logfmt, to stdout or a file.
 *
 * <p>The thread that finishes a request (an event loop) formats its line at once, while the
 * request's strings are still in that core's cache, into a buffer of its own; nothing is shared
 * between loops but an uncontended lock on that buffer. A writer thread of the log's own sweeps
 * every buffer every {@value #BUSY_SWEEP_MILLIS} ms while lines come (up to 50 ms while the log
 * stays quiet), swapping each filled buffer for an empty one and writing it with one call, so a
 * line is written at most that late and lines of one thread stay in order (lines of different
 * threads interleave by sweep). An event loop never waits for the disk or the terminal, makes a
 * system call for the log, wakes the writer, or blocks: when the writer falls behind by
 * {@value #MAX_BUFFERED} bytes for one thread, that thread's new lines are dropped and counted
 * ({@link #dropped()}, published as {@code fulcrum_access_log_dropped_total}).
 *
 * <p>Thread-safe.
 */
public final class AccessLog implements AutoCloseable {
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
    /** Bytes one thread may have waiting for the writer before its lines are dropped. */
    private static final int MAX_BUFFERED = 4 * 1024 * 1024;
    private static final int INITIAL_BUFFER = 64 * 1024;
    private static final long BUSY_SWEEP_MILLIS = 10;
    private static final long MAX_IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final OutputStream out;
    private final boolean closeOut;
    private final Format format;
    private final Thread writer;
    /** Every thread's buffer, in the order the threads first logged. */
    private final List<Lines> buffers = new CopyOnWriteArrayList<>();
    private final FastThreadLocal<Lines> local;
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closing;
    private volatile boolean formatFailureLogged;
    /** The writer's: whether the last write failed (logged once per run of failures). */
    private boolean failing;

    /** One thread's pending lines; the writer swaps {@link #line} for an empty buffer under its lock. */
    private static final class Lines {
        private AccessLogLine line = new AccessLogLine(INITIAL_BUFFER);
    }

    private AccessLog() {
        out = null;
        closeOut = false;
        format = Format.JSON;
        writer = null;
        local = null;
    }

    private AccessLog(OutputStream out, boolean closeOut, Format format) {
        this.out = out;
        this.closeOut = closeOut;
        this.format = format;
        this.local = new FastThreadLocal<>() {
            @Override
            protected Lines initialValue() {
                Lines lines = new Lines();
                buffers.add(lines);
                return lines;
            }
        };
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
            return new AccessLog(new FileSink(Path.of(target)), true, format);
        } catch (IOException e) {
            throw new UncheckedIOException("access-log: cannot open " + target + ": " + e.getMessage(), e);
        }
    }

    /** A log to an output of the caller's, closed with the log. */
    static AccessLog create(OutputStream out, Format format) {
        return new AccessLog(out, true, format);
    }

    public boolean enabled() {
        return writer != null;
    }

    public Format format() {
        return format;
    }

    /**
     * Formats one finished request's line into the calling thread's buffer; drops it (counted) when
     * the writer is behind.
     */
    public void log(RequestRecord record) {
        if (writer == null || closing) {
            return;
        }
        Lines lines = local.get();
        synchronized (lines) {
            AccessLogLine line = lines.line;
            int start = line.length();
            if (start >= MAX_BUFFERED) {
                dropped.increment();
                return;
            }
            try {
                write(record, line);
            } catch (RuntimeException e) {
                // A line that cannot be written is dropped whole; the request it describes is not
                // affected (this runs on the event loop that served it).
                line.truncate(start);
                dropped.increment();
                if (!formatFailureLogged) {
                    formatFailureLogged = true;
                    log.error("access log: a line could not be formatted and was dropped ({}); later ones are counted only",
                            e.toString());
                }
            }
        }
    }

    /** Lines dropped because the writer was behind (or, for a bug, because one could not be formatted). */
    public long dropped() {
        return dropped.sum();
    }

    /** Writes what is buffered, flushes, and stops the writer (at most 5 s). */
    @Override
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
        AccessLogLine spare = new AccessLogLine(INITIAL_BUFFER);
        long idleNanos = TimeUnit.MILLISECONDS.toNanos(BUSY_SWEEP_MILLIS);
        try {
            while (true) {
                if (out instanceof FileSink file) {
                    file.reopenIfMoved(System.nanoTime());
                }
                boolean wrote = false;
                for (Lines lines : buffers) {
                    AccessLogLine full;
                    synchronized (lines) {
                        if (lines.line.length() == 0) {
                            continue;
                        }
                        full = lines.line;
                        lines.line = spare;
                    }
                    write(full);
                    spare = full;
                    wrote = true;
                }
                if (wrote) {
                    idleNanos = TimeUnit.MILLISECONDS.toNanos(BUSY_SWEEP_MILLIS);
                } else {
                    flush();
                    if (closing) {
                        break;
                    }
                    idleNanos = Math.min(idleNanos * 2, MAX_IDLE_NANOS);
                }
                // Never woken by the request path: a line costs an event loop no system call.
                if (!closing) {
                    LockSupport.parkNanos(idleNanos);
                }
            }
        } catch (RuntimeException e) {
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

    /**
     * Writes one thread's batch. When the output fails (a full disk, a closed pipe) the batch's
     * lines are dropped and counted, and the next batch tries again: the log comes back by itself
     * once the output works, and lines never pile up in memory meanwhile.
     */
    private void write(AccessLogLine batch) {
        try {
            batch.writeTo(out);
            writing();
        } catch (IOException e) {
            dropped.add(batch.lines());
            batch.clear();
            failing(e);
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            failing(e);
        }
    }

    private void writing() {
        if (failing) {
            failing = false;
            log.info("access log: writing again");
        }
    }

    private void failing(IOException e) {
        if (!failing) {
            failing = true;
            log.error("access log: cannot write ({}); lines are dropped and counted in "
                    + "fulcrum_access_log_dropped_total until writing works again", e.toString());
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

    /**
     * A file written from one direct buffer the writer fills from its line buffers, so that a
     * write is one copy into that buffer and one system call, without the temporary buffers a
     * stream over a channel allocates and copies through.
     *
     * <p>Log rotation needs no signal: at most once a second the writer looks whether the path still
     * names the file it has open, and when the file was moved away or removed (logrotate's
     * {@code create} mode, or a plain {@code mv}) it opens a new one there; lines already written stay
     * in the moved file. A file truncated in place ({@code copytruncate}) is simply appended to.
     */
    private static final class FileSink extends OutputStream {
        private static final int CHUNK = 256 * 1024;
        private static final long CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
        private final Path path;
        private final ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        private FileChannel channel;
        /** The identity (device and inode) of the open file; {@code null} where the platform has none. */
        private Object fileKey;
        private long checkedNanos;
        private boolean reopenFailureLogged;

        FileSink(Path path) throws IOException {
            this.path = path;
            this.channel = open(path);
            this.fileKey = fileKey(path);
            this.checkedNanos = System.nanoTime();
        }

        private static FileChannel open(Path path) throws IOException {
            return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        }

        /** The identity of the file {@code path} names now; {@code null} when there is none. */
        private static Object fileKey(Path path) throws IOException {
            try {
                return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            } catch (NoSuchFileException e) {
                return null;
            }
        }

        /** Opens the path anew when it no longer names the open file; looks at most once a second. */
        void reopenIfMoved(long nowNanos) {
            if (fileKey == null || nowNanos - checkedNanos < CHECK_NANOS) {
                return;
            }
            checkedNanos = nowNanos;
            try {
                if (fileKey.equals(fileKey(path))) {
                    return;
                }
                FileChannel next = open(path);
                Object nextKey = fileKey(path);
                FileChannel moved = channel;
                channel = next;
                fileKey = nextKey;
                reopenFailureLogged = false;
                log.info("access log: {} was moved or removed; writing to a new file there", path);
                closeQuietly(moved);
            } catch (IOException e) {
                // Keep writing to the open file, and try again in a second.
                if (!reopenFailureLogged) {
                    reopenFailureLogged = true;
                    log.warn("access log: {} was moved or removed and cannot be opened anew ({}); "
                            + "still writing to the file it named", path, e.toString());
                }
            }
        }

        private static void closeQuietly(FileChannel moved) {
            try {
                moved.close();
            } catch (IOException e) {
                log.warn("access log: closing the moved file failed: {}", e.toString());
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, CHUNK);
                chunk.clear();
                chunk.put(bytes, off, n).flip();
                while (chunk.hasRemaining()) {
                    channel.write(chunk);
                }
                off += n;
                len -= n;
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
