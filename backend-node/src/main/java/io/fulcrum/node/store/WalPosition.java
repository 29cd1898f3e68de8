package io.fulcrum.node.store;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL write-ahead-log positions (LSNs) as unsigned 64-bit numbers, in PostgreSQL's own text
 * form {@code 16/B374D848}: the high and low 32 bits in hexadecimal. This is the form of the
 * consistency token that clients carry, so operators can compare it with {@code pg_stat_replication}.
 * Position 0 means "none": nothing to wait for.
 *
 * <p>Stateless and thread-safe.
 */
public final class WalPosition {
    private static final Pattern TEXT = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");

    private WalPosition() {
    }

    /** Parses {@code 16/B374D848}; throws {@link IllegalArgumentException} for anything else. */
    public static long parse(String text) {
        Matcher m = text == null ? null : TEXT.matcher(text.trim());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("not a WAL position like 0/16B3748");
        }
        return Long.parseLong(m.group(1), 16) << 32 | Long.parseLong(m.group(2), 16);
    }

    /** Formats {@code position} as PostgreSQL does. */
    public static String format(long position) {
        return Long.toHexString(position >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(position & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
    }

    /** Whether {@code a} is past {@code b} (positions compare unsigned). */
    public static boolean after(long a, long b) {
        return Long.compareUnsigned(a, b) > 0;
    }
}
