package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.metrics.RequestRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * The access log's line formatter: appends lines, as UTF-8, to one growing byte array that the
 * writer thread reuses for every batch. Numbers, times and escapes are written by hand, so a line
 * costs no allocation beyond the record it is made from: no generator, no {@code String.format}, no
 * intermediate strings.
 *
 * <p>Times are ISO 8601 UTC with milliseconds, always three digits ({@code 2026-11-30T16:01:36.120Z});
 * durations are milliseconds with three decimals ({@code 1.204}).
 *
 * <p>Not thread-safe: owned by the log's writer thread.
 */
final class AccessLogLine {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private byte[] buf;
    private int len;
    /** The epoch second whose {@code yyyy-MM-ddTHH:mm:ss.} prefix is cached in {@link #secondPrefix}. */
    private long cachedSecond = Long.MIN_VALUE;
    private final byte[] secondPrefix = new byte[20];

    AccessLogLine(int capacity) {
        buf = new byte[capacity];
    }

    int length() {
        return len;
    }

    void clear() {
        len = 0;
    }

    /** Writes what is buffered to {@code out} in one call and empties the buffer. */
    void writeTo(OutputStream out) throws IOException {
        if (len > 0) {
            out.write(buf, 0, len);
        }
        clear();
    }

    @Override
    public String toString() {
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }

    /** Appends one JSON object and a newline. */
    void json(RequestRecord r) {
        ascii("{\"time\":\"");
        time(r.startEpochMillis());
        ascii("\",\"request_id\":");
        jsonString(r.requestId());
        ascii(",\"trace_id\":");
        jsonString(r.traceId());
        ascii(",\"client\":");
        jsonString(r.client());
        ascii(",\"method\":");
        jsonString(r.method());
        ascii(",\"host\":");
        jsonString(r.host());
        ascii(",\"path\":");
        jsonString(r.target());
        ascii(",\"protocol\":");
        jsonString(r.protocol());
        ascii(",\"status\":");
        number(r.status());
        ascii(",\"outcome\":");
        jsonString(r.outcome());
        ascii(",\"bytes_in\":");
        number(r.bytesIn());
        ascii(",\"bytes_out\":");
        number(r.bytesOut());
        ascii(",\"duration_ms\":");
        millis(r.durationNanos());
        ascii(",\"ttfb_ms\":");
        millisOrNull(r.firstByteNanos());
        ascii(",\"user_agent\":");
        jsonString(r.userAgent());
        ascii(",\"route\":");
        jsonString(r.route());
        ascii(",\"pool\":");
        jsonString(r.pool());
        ascii(",\"backend\":");
        jsonString(r.backend());
        ascii(",\"tries\":[");
        boolean first = true;
        for (RequestRecord.Try t : r.tries()) {
            if (!first) {
                put((byte) ',');
            }
            first = false;
            ascii("{\"backend\":");
            jsonString(t.backend());
            ascii(",\"outcome\":");
            jsonString(t.outcome());
            ascii(",\"connect_ms\":");
            millisOrNull(t.connectNanos());
            ascii(",\"first_byte_ms\":");
            millisOrNull(t.firstByteNanos());
            ascii(",\"status\":");
            if (t.status() != 0) {
                number(t.status());
            } else {
                ascii("null");
            }
            put((byte) '}');
        }
        ascii("],\"decision\":");
        jsonString(r.decision());
        if (r.error() != null) {
            ascii(",\"error\":");
            jsonString(r.error());
        }
        ascii("}\n");
    }

    /**
     * Appends one logfmt line and a newline: the keys of the JSON format plus {@code attempts} (the
     * number of tries), tries as {@code tries="us-1:reset:-:-:0 us-2:success:0.120:1.804:200"}.
     */
    void logfmt(RequestRecord r) {
        ascii("time=");
        time(r.startEpochMillis());
        pair("request_id", r.requestId());
        pair("trace_id", r.traceId());
        pair("client", r.client());
        pair("method", r.method());
        pair("host", r.host());
        pair("path", r.target());
        pair("protocol", r.protocol());
        ascii(" status=");
        number(r.status());
        pair("outcome", r.outcome());
        ascii(" bytes_in=");
        number(r.bytesIn());
        ascii(" bytes_out=");
        number(r.bytesOut());
        ascii(" duration_ms=");
        millis(r.durationNanos());
        ascii(" ttfb_ms=");
        millisOrDash(r.firstByteNanos());
        pair("user_agent", r.userAgent());
        pair("route", r.route());
        pair("pool", r.pool());
        pair("backend", r.backend());
        ascii(" attempts=");
        number(r.tries().size());
        ascii(" tries=");
        // Ids, outcomes and numbers hold no spaces or quotes: the list is quoted only for the spaces
        // between tries, or when it is empty.
        boolean quote = r.tries().size() != 1;
        if (quote) {
            put((byte) '"');
        }
        boolean first = true;
        for (RequestRecord.Try t : r.tries()) {
            if (!first) {
                put((byte) ' ');
            }
            first = false;
            logfmtEscaped(t.backend());
            put((byte) ':');
            logfmtEscaped(t.outcome());
            put((byte) ':');
            millisOrDash(t.connectNanos());
            put((byte) ':');
            millisOrDash(t.firstByteNanos());
            put((byte) ':');
            number(t.status());
        }
        if (quote) {
            put((byte) '"');
        }
        pair("decision", r.decision());
        if (r.error() != null) {
            pair("error", r.error());
        }
        put((byte) '\n');
    }

    // ---- pieces ----

    private void pair(String key, String value) {
        put((byte) ' ');
        ascii(key);
        put((byte) '=');
        if (value == null) {
            put((byte) '-');
            return;
        }
        boolean quote = value.isEmpty();
        for (int i = 0; i < value.length() && !quote; i++) {
            char c = value.charAt(i);
            quote = c <= ' ' || c == '"' || c == '=' || c == '\\';
        }
        if (!quote) {
            utf8(value);
            return;
        }
        put((byte) '"');
        logfmtEscaped(value);
        put((byte) '"');
    }

    private void logfmtEscaped(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                put((byte) '\\');
                put((byte) c);
            } else if (c < ' ') {
                unicodeEscape(c);
            } else {
                i = utf8Char(value, i, c);
            }
        }
    }

    /** A JSON string (RFC 8259), or {@code null}. */
    private void jsonString(String value) {
        if (value == null) {
            ascii("null");
            return;
        }
        put((byte) '"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= ' ' && c < 0x7f && c != '"' && c != '\\') {
                put((byte) c);
            } else if (c == '"' || c == '\\') {
                put((byte) '\\');
                put((byte) c);
            } else if (c == '\n') {
                put((byte) '\\');
                put((byte) 'n');
            } else if (c == '\r') {
                put((byte) '\\');
                put((byte) 'r');
            } else if (c == '\t') {
                put((byte) '\\');
                put((byte) 't');
            } else if (c < ' ') {
                unicodeEscape(c);
            } else {
                i = utf8Char(value, i, c);
            }
        }
        put((byte) '"');
    }

    private void unicodeEscape(char c) {
        ensure(6);
        buf[len++] = '\\';
        buf[len++] = 'u';
        buf[len++] = HEX[(c >> 12) & 0xf];
        buf[len++] = HEX[(c >> 8) & 0xf];
        buf[len++] = HEX[(c >> 4) & 0xf];
        buf[len++] = HEX[c & 0xf];
    }

    /**
     * The UTF-8 bytes of the character {@code c} at {@code i}; a lone surrogate becomes U+FFFD.
     * Returns the index of the last char used: {@code i + 1} after a surrogate pair, else {@code i}.
     */
    private int utf8Char(String s, int i, char c) {
        ensure(4);
        if (c < 0x80) {
            buf[len++] = (byte) c;
        } else if (c < 0x800) {
            buf[len++] = (byte) (0xc0 | (c >> 6));
            buf[len++] = (byte) (0x80 | (c & 0x3f));
        } else if (Character.isSurrogate(c)) {
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(i + 1));
                buf[len++] = (byte) (0xf0 | (cp >> 18));
                buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                buf[len++] = (byte) (0x80 | (cp & 0x3f));
                return i + 1;
            } else {
                buf[len++] = (byte) 0xef;
                buf[len++] = (byte) 0xbf;
                buf[len++] = (byte) 0xbd;
            }
        } else {
            buf[len++] = (byte) (0xe0 | (c >> 12));
            buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3f));
            buf[len++] = (byte) (0x80 | (c & 0x3f));
        }
        return i;
    }

    private void utf8(String s) {
        for (int i = 0; i < s.length(); i++) {
            i = utf8Char(s, i, s.charAt(i));
        }
    }

    /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ}; the part up to the second is formatted once per second. */
    private void time(long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        int ms = Math.floorMod(epochMillis, 1000);
        if (second != cachedSecond) {
            String prefix = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC).toString();
            // LocalDateTime omits ":00" seconds; always write them.
            byte[] p = (prefix.length() == 16 ? prefix + ":00" : prefix).getBytes(StandardCharsets.US_ASCII);
            if (p.length != 19) {
                // Years beyond 9999 or before 0: not cached, written as the JDK formats them.
                utf8(java.time.Instant.ofEpochMilli(epochMillis).toString());
                return;
            }
            System.arraycopy(p, 0, secondPrefix, 0, 19);
            secondPrefix[19] = '.';
            cachedSecond = second;
        }
        ensure(24);
        System.arraycopy(secondPrefix, 0, buf, len, 20);
        len += 20;
        buf[len++] = (byte) ('0' + ms / 100);
        buf[len++] = (byte) ('0' + ms / 10 % 10);
        buf[len++] = (byte) ('0' + ms % 10);
        buf[len++] = 'Z';
    }

    /** Milliseconds with three decimals, rounded to the microsecond. */
    private void millis(long nanos) {
        long micros = (nanos + 500) / 1000;
        number(micros / 1000);
        int frac = (int) (micros - micros / 1000 * 1000);
        ensure(4);
        buf[len++] = '.';
        buf[len++] = (byte) ('0' + frac / 100);
        buf[len++] = (byte) ('0' + frac / 10 % 10);
        buf[len++] = (byte) ('0' + frac % 10);
    }

    private void millisOrNull(long nanos) {
        if (nanos < 0) {
            ascii("null");
        } else {
            millis(nanos);
        }
    }

    private void millisOrDash(long nanos) {
        if (nanos < 0) {
            put((byte) '-');
        } else {
            millis(nanos);
        }
    }

    private void number(long v) {
        if (v >= 0 && v <= Integer.MAX_VALUE) {
            number((int) v);
            return;
        }
        ascii(Long.toString(v));
    }

    /** A non-negative int, digits written from the right (int division by 10 is a multiply). */
    private void number(int v) {
        int n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10_000 ? 4 : v < 100_000 ? 5
                : v < 1_000_000 ? 6 : v < 10_000_000 ? 7 : v < 100_000_000 ? 8 : v < 1_000_000_000 ? 9 : 10;
        ensure(n);
        int i = len + n;
        len = i;
        do {
            int q = v / 10;
            buf[--i] = (byte) ('0' + v - q * 10);
            v = q;
        } while (v != 0);
    }

    /** A string known to be ASCII (keys and punctuation). */
    private void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
    }

    private void put(byte b) {
        ensure(1);
        buf[len++] = b;
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }
}
