package io.fulcrum.balancer.proxy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per finished request, as a JSON object (the default) or in logfmt, to stdout or a file.
 *
 * <p>The request path only offers the finished request's {@link RequestRecord} to a bounded queue;
 * a writer thread of its own formats and writes it, and flushes whenever the queue runs empty. So
 * an event loop never formats, waits for the disk or the terminal, or blocks: when the writer falls
 * behind by {@value #QUEUE_SIZE} lines, new lines are dropped and counted ({@link #dropped()},
 * published as {@code fulcrum_access_log_dropped_total}).
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
    private static final JsonFactory JSON = new JsonFactory();

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
            return new AccessLog(new BufferedOutputStream(file, 64 * 1024), true, format);
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
        try {
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        StringBuilder line = new StringBuilder(512);
        try {
            while (true) {
                RequestRecord r = queue.poll(100, TimeUnit.MILLISECONDS);
                if (r == null) {
                    out.flush();
                    if (closing) {
                        break;
                    }
                    continue;
                }
                line.setLength(0);
                write(r, line);
                out.write(line.toString().getBytes(StandardCharsets.UTF_8));
                if (queue.isEmpty()) {
                    out.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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

    /** Formats one line (newline included) into {@code line}. */
    void write(RequestRecord r, StringBuilder line) throws IOException {
        if (format == Format.JSON) {
            json(r, line);
        } else {
            logfmt(r, line);
        }
        line.append('\n');
    }

    static void json(RequestRecord r, StringBuilder line) throws IOException {
        java.io.StringWriter buffer = new java.io.StringWriter(512);
        try (JsonGenerator g = JSON.createGenerator(buffer)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.ofEpochMilli(r.startEpochMillis()).toString());
            g.writeStringField("request_id", r.requestId());
            g.writeStringField("trace_id", r.traceId());
            g.writeStringField("client", r.client());
            g.writeStringField("method", r.method());
            g.writeStringField("host", r.host());
            g.writeStringField("path", r.target());
            g.writeStringField("protocol", r.protocol());
            g.writeNumberField("status", r.status());
            g.writeStringField("outcome", r.outcome());
            g.writeNumberField("bytes_in", r.bytesIn());
            g.writeNumberField("bytes_out", r.bytesOut());
            g.writeFieldName("duration_ms");
            g.writeNumber(millis(r.durationNanos()));
            g.writeFieldName("ttfb_ms");
            writeMillisOrNull(g, r.firstByteNanos());
            g.writeStringField("user_agent", r.userAgent());
            g.writeStringField("backend", r.backend());
            g.writeArrayFieldStart("tries");
            for (RequestRecord.Try t : r.tries()) {
                g.writeStartObject();
                g.writeStringField("backend", t.backend());
                g.writeStringField("outcome", t.outcome());
                g.writeFieldName("connect_ms");
                writeMillisOrNull(g, t.connectNanos());
                g.writeFieldName("first_byte_ms");
                writeMillisOrNull(g, t.firstByteNanos());
                if (t.status() != 0) {
                    g.writeNumberField("status", t.status());
                } else {
                    g.writeNullField("status");
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("decision", r.decision());
            if (r.error() != null) {
                g.writeStringField("error", r.error());
            }
            g.writeEndObject();
        }
        line.append(buffer);
    }

    private static void writeMillisOrNull(JsonGenerator g, long nanos) throws IOException {
        if (nanos < 0) {
            g.writeNull();
        } else {
            g.writeNumber(millis(nanos));
        }
    }

    /** Milliseconds with microsecond precision, as a plain decimal string (no exponent). */
    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    /**
     * The logfmt line: the keys of the JSON format plus {@code attempts} (the number of tries), tries as
     * {@code tries="us-1:reset:-:-:0 us-2:success:0.120:1.804:200"}.
     */
    static void logfmt(RequestRecord r, StringBuilder line) {
        line.append("time=").append(Instant.ofEpochMilli(r.startEpochMillis()));
        pair(line, "request_id", r.requestId());
        pair(line, "trace_id", r.traceId());
        pair(line, "client", r.client());
        pair(line, "method", r.method());
        pair(line, "host", r.host());
        pair(line, "path", r.target());
        pair(line, "protocol", r.protocol());
        line.append(" status=").append(r.status());
        pair(line, "outcome", r.outcome());
        line.append(" bytes_in=").append(r.bytesIn()).append(" bytes_out=").append(r.bytesOut());
        line.append(" duration_ms=").append(millis(r.durationNanos()));
        line.append(" ttfb_ms=").append(r.firstByteNanos() < 0 ? "-" : millis(r.firstByteNanos()));
        pair(line, "user_agent", r.userAgent());
        pair(line, "backend", r.backend());
        line.append(" attempts=").append(r.tries().size());
        StringBuilder tries = new StringBuilder();
        for (RequestRecord.Try t : r.tries()) {
            if (tries.length() > 0) {
                tries.append(' ');
            }
            tries.append(t.backend()).append(':').append(t.outcome()).append(':')
                    .append(t.connectNanos() < 0 ? "-" : millis(t.connectNanos())).append(':')
                    .append(t.firstByteNanos() < 0 ? "-" : millis(t.firstByteNanos())).append(':')
                    .append(t.status());
        }
        pair(line, "tries", tries.toString());
        pair(line, "decision", r.decision());
        if (r.error() != null) {
            pair(line, "error", r.error());
        }
    }

    private static void pair(StringBuilder line, String key, String value) {
        line.append(' ').append(key).append('=');
        if (value == null) {
            line.append('-');
            return;
        }
        boolean quote = value.isEmpty();
        for (int i = 0; i < value.length() && !quote; i++) {
            char c = value.charAt(i);
            quote = c <= ' ' || c == '"' || c == '=' || c == '\\';
        }
        if (!quote) {
            line.append(value);
            return;
        }
        line.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                line.append('\\').append(c);
            } else if (c < ' ') {
                line.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                line.append(c);
            }
        }
        line.append('"');
    }
}
