package io.fulcrum.balancer.proxy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * A growing byte array that lines are appended to as UTF-8, with the pieces every line format
 * needs written by hand: ASCII, UTF-8 with escapes, numbers, times and durations, so that a line
 * costs no allocation and no intermediate string. {@link AccessLogLine} writes the access log's
 * formats with them.
 *
 * <p>Times are ISO 8601 UTC with milliseconds, always three digits ({@code 2026-11-30T16:01:36.120Z});
 * durations are milliseconds with three decimals ({@code 1.204}).
 *
 * <p>Not thread-safe: the access log guards each buffer with a lock.
 */
class LineBuffer {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private byte[] buf;
    private int len;
    /** The epoch second whose {@code yyyy-MM-ddTHH:mm:ss.} prefix is cached in {@link #secondPrefix}. */
    private long cachedSecond = Long.MIN_VALUE;
    private final byte[] secondPrefix = new byte[20];

    LineBuffer(int capacity) {
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

    /**
     * Appends the leading run of {@code value} that is printable ASCII other than {@code "} and
     * {@code \\} (the usual case, copied without a bounds check per byte); returns its length.
     */
    int plainRun(String value) {
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
        return i;
    }

    void unicodeEscape(char c) {
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
    int utf8Char(String s, int i, char c) {
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

    void utf8(String s) {
        for (int i = 0; i < s.length(); i++) {
            i = utf8Char(s, i, s.charAt(i));
        }
    }

    /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ}; the part up to the second is formatted once per second. */
    void time(long epochMillis) {
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
    void millis(long nanos) {
        long micros = (nanos + 500) / 1000;
        number(micros / 1000);
        int frac = (int) (micros - micros / 1000 * 1000);
        ensure(4);
        buf[len++] = '.';
        buf[len++] = (byte) ('0' + frac / 100);
        buf[len++] = (byte) ('0' + frac / 10 % 10);
        buf[len++] = (byte) ('0' + frac % 10);
    }

    void number(long v) {
        if (v >= 0 && v <= Integer.MAX_VALUE) {
            number((int) v);
            return;
        }
        ascii(Long.toString(v));
    }

    /** A non-negative int, digits written from the right (int division by 10 is a multiply). */
    void number(int v) {
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
    void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
    }

    /** Bytes known to be ASCII (the JSON format's fixed parts). */
    void raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
    }

    void put(byte b) {
        ensure(1);
        buf[len++] = b;
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }
}
