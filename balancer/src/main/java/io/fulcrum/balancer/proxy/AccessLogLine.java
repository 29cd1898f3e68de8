package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.DecisionTrace;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * The access log's line formatter: appends lines, as UTF-8, to one growing byte array that the
 * thread finishing requests fills and the log's writer empties. Numbers, times and escapes are written by hand, so a line
 * costs no allocation beyond the record it is made from: no generator, no {@code String.format}, no
 * intermediate strings.
 *
 * <p>Times are ISO 8601 UTC with milliseconds, always three digits ({@code 2026-11-30T16:01:36.120Z});
 * durations are milliseconds with three decimals ({@code 1.204}).
 *
 * <p>Not thread-safe: the access log guards each buffer with a lock.
 */
final class AccessLogLine {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    // The JSON format's fixed parts, copied with one arraycopy each.
    private static final byte[] J_TIME = "{\"time\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_REQUEST_ID = "\",\"request_id\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TRACE_ID = ",\"trace_id\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_CLIENT = ",\"client\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_METHOD = ",\"method\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_HOST = ",\"host\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_PATH = ",\"path\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_PROTOCOL = ",\"protocol\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_STATUS = ",\"status\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_OUTCOME = ",\"outcome\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_BYTES_IN = ",\"bytes_in\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_BYTES_OUT = ",\"bytes_out\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_DURATION_MS = ",\"duration_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TTFB_MS = ",\"ttfb_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_USER_AGENT = ",\"user_agent\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_ROUTE = ",\"route\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_POOL = ",\"pool\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_BACKEND = ",\"backend\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TRIES = ",\"tries\":[".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TRY_BACKEND = "{\"backend\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_CONNECT_MS = ",\"connect_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_FIRST_BYTE_MS = ",\"first_byte_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_DECISION = "],\"decision\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_ERROR = ",\"error\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_END = "}\n".getBytes(StandardCharsets.US_ASCII);

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

    /** Drops what was appended after {@code length} bytes (a line that failed half way). */
    void truncate(int length) {
        len = Math.min(len, length);
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
        raw(J_TIME);
        time(r.startEpochMillis());
        raw(J_REQUEST_ID);
        jsonString(r.requestId());
        raw(J_TRACE_ID);
        jsonString(r.traceId());
        raw(J_CLIENT);
        jsonString(r.client());
        raw(J_METHOD);
        jsonString(r.method());
        raw(J_HOST);
        jsonString(r.host());
        raw(J_PATH);
        jsonString(r.target());
        raw(J_PROTOCOL);
        jsonString(r.protocol());
        raw(J_STATUS);
        number(r.status());
        raw(J_OUTCOME);
        jsonString(r.outcome());
        raw(J_BYTES_IN);
        number(r.bytesIn());
        raw(J_BYTES_OUT);
        number(r.bytesOut());
        raw(J_DURATION_MS);
        millis(r.durationNanos());
        raw(J_TTFB_MS);
        millisOrNull(r.firstByteNanos());
        raw(J_USER_AGENT);
        jsonString(r.userAgent());
        raw(J_ROUTE);
        jsonString(r.route());
        raw(J_POOL);
        jsonString(r.pool());
        raw(J_BACKEND);
        jsonString(r.backend());
        raw(J_TRIES);
        boolean first = true;
        for (RequestRecord.Try t : r.tries()) {
            if (!first) {
                put((byte) ',');
            }
            first = false;
            raw(J_TRY_BACKEND);
            jsonString(t.backend());
            raw(J_OUTCOME);
            jsonString(t.outcome());
            raw(J_CONNECT_MS);
            millisOrNull(t.connectNanos());
            raw(J_FIRST_BYTE_MS);
            millisOrNull(t.firstByteNanos());
            raw(J_STATUS);
            if (t.status() != 0) {
                number(t.status());
            } else {
                raw(J_NULL);
            }
            put((byte) '}');
        }
        raw(J_DECISION);
        decision(r.decision(), true);
        if (r.error() != null) {
            raw(J_ERROR);
            jsonString(r.error());
        }
        raw(J_END);
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
        put((byte) ' ');
        ascii("decision=");
        decision(r.decision(), false);
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

    /**
     * The decision trace's compact form ({@link DecisionTrace#compact()}), written from the trace
     * without building the string: a JSON string, or a quoted logfmt value; {@code null} or {@code -}
     * without a trace.
     */
    private void decision(DecisionTrace t, boolean json) {
        if (t == null) {
            if (json) {
                raw(J_NULL);
            } else {
                put((byte) '-');
            }
            return;
        }
        put((byte) '"');
        escaped("region=", json);
        escaped(t.clientRegion(), json);
        escaped(t.regionSource().equals("header") ? "(header) pass=" : "(default) pass=", json);
        escaped(t.pass().label(), json);
        Backend chosen = t.chosen();
        if (chosen != null) {
            escaped(" to=", json);
            escaped(chosen.region(), json);
            escaped(" backend=", json);
            escaped(chosen.id(), json);
        }
        if (t.excluded() > 0) {
            escaped(" avoided=", json);
            number(t.excluded());
        }
        if (t.heldDown() > 0) {
            escaped(" held-down=", json);
            number(t.heldDown());
        }
        put((byte) '"');
    }

    private void escaped(String value, boolean json) {
        if (value == null) {
            value = "null";
        }
        if (json) {
            jsonChars(value);
        } else {
            logfmtEscaped(value);
        }
    }

    /** A JSON string (RFC 8259), or {@code null}. */
    private void jsonString(String value) {
        if (value == null) {
            raw(J_NULL);
            return;
        }
        put((byte) '"');
        jsonChars(value);
        put((byte) '"');
    }

    /** The characters of a JSON string, escaped, without its quotes. */
    private void jsonChars(String value) {
        // Printable ASCII, the usual case, is copied without a bounds check per byte.
        int n = value.length();
        ensure(n);
        byte[] b = buf;
        int p = len;
        int i = 0;
        for (; i < n; i++) {
            char c = value.charAt(i);
            if (c < ' ' || c >= 0x7f || c == '"' || c == '\\') {
                break;
            }
            b[p++] = (byte) c;
        }
        len = p;
        for (; i < n; i++) {
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
            raw(J_NULL);
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

    /** Bytes known to be ASCII (the JSON format's fixed parts). */
    private void raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
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
