package io.fulcrum.balancer.http1.codec;

import io.netty.util.AsciiString;

/**
 * The syntax of header fields (RFC 9110 section 5): the byte classes a name ({@code token}) and a
 * value may hold, the check that a field added by code is as valid as a received one, and the
 * case-insensitive comparisons of names and list elements held as bytes (RFC 9110 section 5.1:
 * field names are case-insensitive). Stateless; the tables are filled once and only read, so it is
 * safe from any thread.
 */
final class FieldSyntax {
    /** The bytes of a {@code token} ({@code tchar}, RFC 9110 section 5.6.2). */
    static final boolean[] TCHAR = new boolean[256];
    /** Bytes allowed in a field value: HTAB, SP, VCHAR and obs-text. */
    static final boolean[] FIELD_BYTE = new boolean[256];
    /** Each byte in lower case (ASCII letters only), for comparing names without building strings. */
    private static final byte[] LOWER = new byte[256];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
        FIELD_BYTE['\t'] = true;
        for (int b = 0x20; b < 0x7F; b++) {
            FIELD_BYTE[b] = true;
        }
        for (int b = 0x80; b < 0x100; b++) {
            FIELD_BYTE[b] = true;
        }
        for (int i = 0; i < 256; i++) {
            LOWER[i] = (byte) (i >= 'A' && i <= 'Z' ? i + 32 : i);
        }
    }

    /** Names a response often carries, kept once in lower case rather than copied per message. */
    private static final AsciiString[] COMMON_NAMES = {
        AsciiString.cached("content-type"), AsciiString.cached("content-length"), AsciiString.cached("date"),
        AsciiString.cached("server"), AsciiString.cached("last-modified"), AsciiString.cached("etag"),
        AsciiString.cached("accept-ranges"), AsciiString.cached("cache-control"), AsciiString.cached("vary"),
        AsciiString.cached("via"), AsciiString.cached("x-request-id"), AsciiString.cached("content-encoding"),
        AsciiString.cached("expires"), AsciiString.cached("location"), AsciiString.cached("set-cookie"),
    };

    private FieldSyntax() {
    }

    /**
     * One of 64 bits for a field name, the same in any case: from its length and its first and last
     * characters, so it costs the same for any name. A set of names is the OR of their bits; a name
     * whose bit is clear in a set's is certainly not in it, which lets a lookup of an absent field
     * (most of the hop-by-hop and forwarding names, on most messages) skip comparing names.
     */
    static long nameBit(CharSequence name) {
        int n = name.length();
        return n == 0 ? 1L : nameBit(n, lower(name.charAt(0)), lower(name.charAt(n - 1)));
    }

    /** {@link #nameBit(CharSequence)} of the name held in {@code bytes[start, end)}, {@code end > start}. */
    static long nameBit(byte[] bytes, int start, int end) {
        return nameBit(end - start, LOWER[bytes[start] & 0xFF], LOWER[bytes[end - 1] & 0xFF]);
    }

    private static long nameBit(int length, int first, int last) {
        return 1L << ((length * 20 + first * 52 + last) & 63);
    }

    private static int lower(char c) {
        return c > 0xFF ? c : LOWER[c];
    }

    /** A field added by code must be as valid as a received one: a token name, a value without CR, LF or NUL. */
    static void validate(CharSequence name, CharSequence value) {
        if (name.length() == 0) {
            throw new IllegalArgumentException("empty header name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > 0xFF || !TCHAR[c]) {
                throw new IllegalArgumentException("invalid header name: " + name);
            }
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c > 0xFF || !FIELD_BYTE[c]) {
                throw new IllegalArgumentException("invalid value for header " + name);
            }
        }
    }

    /** Whether {@code bytes[start, end)} equals {@code name}, ignoring case. */
    static boolean equalsIgnoreCase(byte[] bytes, int start, int end, CharSequence name) {
        if (end - start != name.length()) {
            return false;
        }
        for (int k = 0; k < name.length(); k++) {
            char c = name.charAt(k);
            if (c > 0xFF || LOWER[bytes[start + k] & 0xFF] != LOWER[c]) {
                return false;
            }
        }
        return true;
    }

    /** Whether the {@code length} bytes at {@code a} and at {@code b} are the same, ignoring case. */
    static boolean sameIgnoringCase(byte[] bytes, int a, int b, int length) {
        for (int j = 0; j < length; j++) {
            if (LOWER[bytes[a + j] & 0xFF] != LOWER[bytes[b + j] & 0xFF]) {
                return false;
            }
        }
        return true;
    }

    /** The name in {@code bytes[start, end)} in lower case: a shared constant when it is a common one. */
    static AsciiString lowerCase(byte[] bytes, int start, int end) {
        int length = end - start;
        for (AsciiString common : COMMON_NAMES) {
            if (common.length() == length && equalsIgnoreCase(bytes, start, end, common)) {
                return common;
            }
        }
        byte[] lower = new byte[length];
        for (int k = 0; k < length; k++) {
            lower[k] = LOWER[bytes[start + k] & 0xFF];
        }
        return new AsciiString(lower, false);
    }

    /** Whether the comma-separated list in {@code bytes[start, end)} has {@code value} as an element. */
    static boolean listContains(byte[] bytes, int start, int end, CharSequence value, boolean ignoreCase) {
        ListElements elements = new ListElements(bytes, start, end);
        while (elements.next()) {
            if (elements.end - elements.start == value.length()) {
                boolean same = true;
                for (int k = 0; k < value.length() && same; k++) {
                    int b = bytes[elements.start + k] & 0xFF;
                    char c = value.charAt(k);
                    same = ignoreCase ? c <= 0xFF && LOWER[b] == LOWER[c] : b == c;
                }
                if (same) {
                    return true;
                }
            }
        }
        return false;
    }
}
