package io.fulcrum.balancer.accesslog;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
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
 * <p>The pieces come in two forms. The instance methods ({@link #put}, {@link #number(long)}, ...)
 * check the room left on each call. The static ones take the array and a position and return the
 * position after what they wrote, checking nothing: a caller first {@linkplain #reserve reserves}
 * the most a whole line can take, then writes it with the position in a local variable. The JSON
 * format, written for every request, uses those; a line is then one capacity check, fixed parts
 * copied eight bytes at a time, and a loop over each string's characters.
 *
 * <p>Times are ISO 8601 UTC with milliseconds, always three digits ({@code 2026-11-30T16:01:36.120Z});
 * durations are milliseconds with three decimals ({@code 1.204}).
 *
 * <p>Not thread-safe: the access log guards each buffer with a lock.
 */
class LineBuffer {
    /** The most bytes one {@code char} of a string can take: {@code \u001f}, or 3 of UTF-8. */
    static final int MAX_BYTES_PER_CHAR = 6;
    /** The most bytes {@link #number(byte[], int, long)} writes. */
    static final int MAX_NUMBER = 20;
    /** The most bytes {@link #millis(byte[], int, long)} writes. */
    static final int MAX_MILLIS = MAX_NUMBER + 4;
    /** The most bytes {@link #time(byte[], int, long)} writes. */
    static final int MAX_TIME = 40;

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

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

    /**
     * Makes room for {@code bytes} more and returns the array to write them into, from
     * {@link #length()}; {@link #advance} then sets the new length.
     */
    byte[] reserve(int bytes) {
        ensure(bytes);
        return buf;
    }

    /** The length after a write into the array {@link #reserve} returned. */
    void advance(int newLength) {
        len = newLength;
    }

    /** Writes what is buffered to {@code out} in one call and empties the buffer. */
    /** How many lines (newlines) are buffered: a scan, for the rare batch that could not be written. */
    int lines() {
        int n = 0;
        for (int i = 0; i < len; i++) {
            if (buf[i] == '\n') {
                n++;
            }
        }
        return n;
    }

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

    // ---- unchecked pieces: (array, position) in, position after out ----

    /** Copies bytes (a format's fixed parts), eight at a time where they are that long. */
    static int copy(byte[] b, int p, byte[] bytes) {
        int n = bytes.length;
        if (n < 8) {
            for (int i = 0; i < n; i++) {
                b[p + i] = bytes[i];
            }
            return p + n;
        }
        int i = 0;
        for (; i < n - 8; i += 8) {
            LONGS.set(b, p + i, (long) LONGS.get(bytes, i));
        }
        // The last eight bytes, overlapping what the loop wrote.
        LONGS.set(b, p + n - 8, (long) LONGS.get(bytes, n - 8));
        return p + n;
    }

    /**
     * The characters of a JSON string (RFC 8259), escaped, without its quotes: at most
     * {@link #MAX_BYTES_PER_CHAR} bytes per char.
     */
    static int jsonChars(byte[] b, int p, String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < ' ' || c >= 0x7f || c == '"' || c == '\\') {
                return jsonEscaped(b, p, s, i);
            }
            b[p++] = (byte) c;
        }
        return p;
    }

    /** The rest of a JSON string from {@code i}, the first character that is not plain ASCII. */
    private static int jsonEscaped(byte[] b, int p, String s, int i) {
        int n = s.length();
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c >= ' ' && c < 0x7f && c != '"' && c != '\\') {
                b[p++] = (byte) c;
            } else if (c == '"' || c == '\\') {
                b[p++] = '\\';
                b[p++] = (byte) c;
            } else if (c == '\n') {
                b[p++] = '\\';
                b[p++] = 'n';
            } else if (c == '\r') {
                b[p++] = '\\';
                b[p++] = 'r';
            } else if (c == '\t') {
                b[p++] = '\\';
                b[p++] = 't';
            } else if (c < ' ') {
                p = unicodeEscape(b, p, c);
            } else {
                p = utf8Char(b, p, s, i, c);
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                }
            }
        }
        return p;
    }

    /** {@code \\u} and four hex digits. */
    static int unicodeEscape(byte[] b, int p, char c) {
        b[p] = '\\';
        b[p + 1] = 'u';
        b[p + 2] = HEX[(c >> 12) & 0xf];
        b[p + 3] = HEX[(c >> 8) & 0xf];
        b[p + 4] = HEX[(c >> 4) & 0xf];
        b[p + 5] = HEX[c & 0xf];
        return p + 6;
    }

    /**
     * The UTF-8 bytes of the character {@code c} at {@code i}, with the low surrogate after it when
     * {@code c} is a high one; a lone surrogate becomes U+FFFD.
     */
    static int utf8Char(byte[] b, int p, String s, int i, char c) {
        if (c < 0x80) {
            b[p++] = (byte) c;
        } else if (c < 0x800) {
            b[p++] = (byte) (0xc0 | (c >> 6));
            b[p++] = (byte) (0x80 | (c & 0x3f));
        } else if (Character.isSurrogate(c)) {
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(i + 1));
                b[p++] = (byte) (0xf0 | (cp >> 18));
                b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                b[p++] = (byte) (0x80 | (cp & 0x3f));
            } else {
                b[p++] = (byte) 0xef;
                b[p++] = (byte) 0xbf;
                b[p++] = (byte) 0xbd;
            }
        } else {
            b[p++] = (byte) (0xe0 | (c >> 12));
            b[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
            b[p++] = (byte) (0x80 | (c & 0x3f));
        }
        return p;
    }

    /** A number in decimal, at most {@link #MAX_NUMBER} bytes. */
    static int number(byte[] b, int p, long v) {
        if (v >= 0 && v <= Integer.MAX_VALUE) {
            return number(b, p, (int) v);
        }
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                return copy(b, p, "-9223372036854775808".getBytes(StandardCharsets.US_ASCII));
            }
            b[p++] = '-';
            v = -v;
        }
        int n = 1;
        for (long t = v; t >= 10; t /= 10) {
            n++;
        }
        int i = p + n;
        do {
            b[--i] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        return p + n;
    }

    /** A non-negative int, digits written from the right (int division by 10 is a multiply). */
    static int number(byte[] b, int p, int v) {
        int n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10_000 ? 4 : v < 100_000 ? 5
                : v < 1_000_000 ? 6 : v < 10_000_000 ? 7 : v < 100_000_000 ? 8 : v < 1_000_000_000 ? 9 : 10;
        int i = p + n;
        do {
            int q = v / 10;
            b[--i] = (byte) ('0' + v - q * 10);
            v = q;
        } while (v != 0);
        return p + n;
    }

    /** Milliseconds with three decimals, rounded to the microsecond; at most {@link #MAX_MILLIS} bytes. */
    static int millis(byte[] b, int p, long nanos) {
        long micros = (nanos + 500) / 1000;
        p = number(b, p, micros / 1000);
        int frac = (int) (micros - micros / 1000 * 1000);
        b[p] = '.';
        b[p + 1] = (byte) ('0' + frac / 100);
        b[p + 2] = (byte) ('0' + frac / 10 % 10);
        b[p + 3] = (byte) ('0' + frac % 10);
        return p + 4;
    }

    /**
     * {@code yyyy-MM-ddTHH:mm:ss.SSSZ}, at most {@link #MAX_TIME} bytes; the part up to the second
     * is formatted once per second.
     */
    int time(byte[] b, int p, long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        int ms = Math.floorMod(epochMillis, 1000);
        if (second != cachedSecond) {
            String prefix = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC).toString();
            // LocalDateTime omits ":00" seconds; always write them.
            byte[] t = (prefix.length() == 16 ? prefix + ":00" : prefix).getBytes(StandardCharsets.US_ASCII);
            if (t.length != 19) {
                // Years beyond 9999 or before 0: not cached, written as the JDK formats them.
                return copy(b, p, java.time.Instant.ofEpochMilli(epochMillis).toString()
                        .getBytes(StandardCharsets.US_ASCII));
            }
            System.arraycopy(t, 0, secondPrefix, 0, 19);
            secondPrefix[19] = '.';
            cachedSecond = second;
        }
        p = copy(b, p, secondPrefix);
        b[p] = (byte) ('0' + ms / 100);
        b[p + 1] = (byte) ('0' + ms / 10 % 10);
        b[p + 2] = (byte) ('0' + ms % 10);
        b[p + 3] = 'Z';
        return p + 4;
    }

    // ---- checked pieces, appended at the end ----

    /**
     * The UTF-8 bytes of the character {@code c} at {@code i}. Returns the index of the last char
     * used: {@code i + 1} after a surrogate pair, else {@code i}.
     */
    int utf8Char(String s, int i, char c) {
        ensure(4);
        len = utf8Char(buf, len, s, i, c);
        return Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                ? i + 1 : i;
    }

    void unicodeEscape(char c) {
        ensure(6);
        len = unicodeEscape(buf, len, c);
    }

    void utf8(String s) {
        for (int i = 0; i < s.length(); i++) {
            i = utf8Char(s, i, s.charAt(i));
        }
    }

    void time(long epochMillis) {
        ensure(MAX_TIME);
        len = time(buf, len, epochMillis);
    }

    void millis(long nanos) {
        ensure(MAX_MILLIS);
        len = millis(buf, len, nanos);
    }

    void number(long v) {
        ensure(MAX_NUMBER);
        len = number(buf, len, v);
    }

    /** A string known to be ASCII (keys and punctuation). */
    void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
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
