package io.fulcrum.balancer.http1.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where {@link RawHeaders} keeps its fields: the bytes of the received header section with the
 * offsets of each field's name and value, as {@link FieldParser} found them, and the changes kept
 * beside them. A removed field is marked, an added or set field goes to a short list written after
 * the received ones. Here too are the operations a proxy runs on the bytes themselves: writing the
 * fields out again ({@link #encode}), visiting them for HTTP/2 ({@link #forEachField}), and the
 * hop-by-hop removal ({@link #removeHopByHop}).
 *
 * <p>It extends {@link HttpHeaders} only so that {@code RawHeaders}, its one subclass and Netty's
 * header API over it, is one object per message rather than a view wrapping a store. Not thread
 * safe: a message's headers are confined to its channel's event loop.
 */
abstract class FieldStore extends HttpHeaders {
    /** Field i occupies {@code at[5i..5i+4]}: name start, name end, value start, value end, line end. */
    private static final int STRIDE = FieldParser.STRIDE;

    final byte[] bytes;
    final int[] at;
    final int count;
    /** The {@link FieldSyntax#nameBit}s of the received names, removed ones included. */
    private final long receivedNames;
    /** The strings of received values already asked for ({@link #value}); allocated on the first. */
    private String[] values;
    /** Bit i set: received field i was removed. Allocated on the first removal. */
    private long[] removed;
    int removedCount;
    /** Fields added or set after receipt, name then value, in order; {@code null} until the first. */
    CharSequence[] extra;
    int extraCount;
    /** The {@link FieldSyntax#nameBit}s of the names ever added, removed ones included. */
    private long addedNames;

    FieldStore(byte[] bytes, int[] at, int count) {
        this.bytes = bytes;
        this.at = at;
        this.count = count;
        long names = 0;
        for (int i = 0; i < count; i++) {
            names |= FieldSyntax.nameBit(bytes, at[i * STRIDE], at[i * STRIDE + 1]);
        }
        this.receivedNames = names;
    }

    /** False when no received field is named {@code name}; true when one may be. */
    final boolean mayHaveReceived(CharSequence name) {
        return (receivedNames & FieldSyntax.nameBit(name)) != 0;
    }

    final boolean live(int i) {
        return removed == null || (removed[i >>> 6] & (1L << i)) == 0;
    }

    final void markRemoved(int i) {
        if (removed == null) {
            removed = new long[(count + 63) >>> 6];
        }
        long bit = 1L << i;
        if ((removed[i >>> 6] & bit) == 0) {
            removed[i >>> 6] |= bit;
            removedCount++;
        }
    }

    /** Whether received field i is named {@code name} (case-insensitive). */
    final boolean nameIs(int i, CharSequence name) {
        return FieldSyntax.equalsIgnoreCase(bytes, at[i * STRIDE], at[i * STRIDE + 1], name);
    }

    final String name(int i) {
        int start = at[i * STRIDE];
        return new String(bytes, start, at[i * STRIDE + 1] - start, StandardCharsets.ISO_8859_1);
    }

    /**
     * The value of received field i as a string, made once: a request's Host is read by the
     * validator, the forwarding rules and the access log's facts, and the received bytes never
     * change.
     */
    final String value(int i) {
        String[] made = values;
        if (made == null) {
            made = new String[count];
            values = made;
        }
        String v = made[i];
        if (v == null) {
            int start = at[i * STRIDE + 2];
            v = new String(bytes, start, at[i * STRIDE + 3] - start, StandardCharsets.ISO_8859_1);
            made[i] = v;
        }
        return v;
    }

    /**
     * The index of the first field still present named {@code name} at or after {@code from}, or
     * -1: received fields are {@code 0..count-1}, added ones follow from {@code count}, so the
     * received come first.
     */
    final int indexOf(CharSequence name, int from) {
        long bit = FieldSyntax.nameBit(name);
        int received = from < count && (receivedNames & bit) != 0 ? count : 0;
        for (int i = from; i < received; i++) {
            if (nameIs(i, name) && live(i)) {
                return i;
            }
        }
        int added = (addedNames & bit) != 0 ? extraCount : 0;
        for (int i = Math.max(from - count, 0); i < added; i++) {
            if (AsciiString.contentEqualsIgnoreCase(extra[2 * i], name)) {
                return count + i;
            }
        }
        return -1;
    }

    /** The value of the field at {@code index} (as {@link #indexOf} counts) as a string. */
    final String valueAt(int index) {
        return index < count ? value(index) : extra[2 * (index - count) + 1].toString();
    }

    /** Whether the value of the field at {@code index} (as {@link #indexOf} counts) lists {@code value}. */
    final boolean listsAt(int index, CharSequence value, boolean ignoreCase) {
        if (index < count) {
            return FieldSyntax.listContains(bytes, at[index * STRIDE + 2], at[index * STRIDE + 3], value, ignoreCase);
        }
        byte[] b = extra[2 * (index - count) + 1].toString().getBytes(StandardCharsets.ISO_8859_1);
        return FieldSyntax.listContains(b, 0, b.length, value, ignoreCase);
    }

    final void addChecked(CharSequence name, CharSequence text) {
        if (extra == null) {
            // Room for the eight fields a forwarded request gets (the forwarding fields, Via,
            // X-Request-Id and traceparent), so that they never grow the array.
            extra = new CharSequence[16];
        } else if (2 * extraCount == extra.length) {
            extra = Arrays.copyOf(extra, extra.length * 2);
        }
        addedNames |= FieldSyntax.nameBit(name);
        extra[2 * extraCount] = name;
        extra[2 * extraCount + 1] = text;
        extraCount++;
    }

    final void removeExtraAll() {
        if (extra != null) {
            Arrays.fill(extra, null);
        }
        extraCount = 0;
    }

    final void removeExtra(CharSequence name) {
        if (extraCount == 0 || (addedNames & FieldSyntax.nameBit(name)) == 0) {
            return;
        }
        int kept = 0;
        for (int i = 0; i < extraCount; i++) {
            if (!AsciiString.contentEqualsIgnoreCase(extra[2 * i], name)) {
                extra[2 * kept] = extra[2 * i];
                extra[2 * kept + 1] = extra[2 * i + 1];
                kept++;
            }
        }
        Arrays.fill(extra, 2 * kept, 2 * extraCount, null);
        extraCount = kept;
    }

    /**
     * Sets a field that needs no check of its characters: a name that is a valid token by
     * construction (a constant) and a value made only of received field values, which the parser
     * checked, and the proxy's own text (addresses, ids, constants). The proxy's forwarding fields
     * are set this way on every request; anything else goes through {@link #set(CharSequence, Object)}.
     */
    public final void setChecked(AsciiString name, CharSequence value) {
        remove(name);
        addChecked(name, value);
    }

    /**
     * Writes every field still present as {@code name: value CRLF}: the received ones as the bytes
     * they came in, runs of adjacent lines in one copy, then the added ones.
     */
    public final void encode(ByteBuf out) {
        int runStart = -1;
        int runEnd = -1;
        for (int i = 0; i < count; i++) {
            if (!live(i)) {
                continue;
            }
            int lineStart = at[i * STRIDE];
            if (runStart >= 0 && lineStart != runEnd) {
                out.writeBytes(bytes, runStart, runEnd - runStart);
                runStart = -1;
            }
            if (runStart < 0) {
                runStart = lineStart;
            }
            runEnd = at[i * STRIDE + 4];
        }
        if (runStart >= 0) {
            out.writeBytes(bytes, runStart, runEnd - runStart);
        }
        for (int i = 0; i < extraCount; i++) {
            ByteBufUtil.writeAscii(out, extra[2 * i]);
            out.writeByte(':').writeByte(' ');
            ByteBufUtil.writeAscii(out, extra[2 * i + 1]);
            out.writeByte('\r').writeByte('\n');
        }
    }

    /** An upper bound guess of {@link #encode}'s output size, to size the buffer once. */
    public final int encodedSizeHint() {
        int received = count == 0 ? 0 : at[(count - 1) * STRIDE + 4] - at[0];
        int added = 0;
        for (int i = 0; i < extraCount; i++) {
            added += extra[2 * i].length() + extra[2 * i + 1].length() + 4;
        }
        return received + added;
    }

    /**
     * Visits every field still present, in order, with its name in lower case; values of received
     * fields are views of the received bytes, not copies. For writing the fields as HTTP/2 headers
     * without going through strings.
     */
    public final void forEachField(RawHeaders.FieldVisitor visitor) {
        for (int i = 0; i < count; i++) {
            if (!live(i)) {
                continue;
            }
            int valueStart = at[i * STRIDE + 2];
            visitor.field(FieldSyntax.lowerCase(bytes, at[i * STRIDE], at[i * STRIDE + 1]),
                    new AsciiString(bytes, valueStart, at[i * STRIDE + 3] - valueStart, false));
        }
        for (int i = 0; i < extraCount; i++) {
            visitor.field(AsciiString.of(extra[2 * i]).toLowerCase(), extra[2 * i + 1]);
        }
    }

    /**
     * Removes, in one pass over the received fields, those named in {@code names} and those named
     * by a token of any field called {@code connection} (RFC 9110 section 7.6.1), except fields
     * for which {@code kept} is true. The forwarding proxy's hop-by-hop rule without building a
     * string per field.
     */
    public final void removeHopByHop(CharSequence connection, CharSequence[] names, CharSequence[] kept) {
        int received = mayHaveReceived(connection) ? count : 0;
        for (int i = 0; i < received; i++) {
            if (!nameIs(i, connection) || !live(i)) {
                continue;
            }
            ListElements options = new ListElements(bytes, at[i * STRIDE + 2], at[i * STRIDE + 3]);
            while (options.next()) {
                if (!rangeIsOneOf(options.start, options.end, kept)) {
                    removeNamed(options.start, options.end);
                }
            }
        }
        long namesBits = namesBits(names);
        if ((receivedNames & namesBits) != 0) {
            for (int i = 0; i < count; i++) {
                int k = i * STRIDE;
                if ((FieldSyntax.nameBit(bytes, at[k], at[k + 1]) & namesBits) != 0 && live(i)
                        && rangeIsOneOf(at[k], at[k + 1], names)) {
                    markRemoved(i);
                }
            }
        }
        for (CharSequence name : names) {
            if (extraCount > 0) {
                removeExtra(name);
            }
        }
    }

    /** The last names array {@link #namesBits} summed: callers pass the same constant every time. */
    private static volatile NamesBits lastNames = new NamesBits(new CharSequence[0], 0);

    private record NamesBits(CharSequence[] names, long bits) {
    }

    /** The OR of the {@link FieldSyntax#nameBit}s of {@code names}, summed once per array. */
    private static long namesBits(CharSequence[] names) {
        NamesBits last = lastNames;
        if (last.names() == names) {
            return last.bits();
        }
        long bits = 0;
        for (CharSequence name : names) {
            bits |= FieldSyntax.nameBit(name);
        }
        lastNames = new NamesBits(names, bits);
        return bits;
    }

    /** Whether {@code bytes[start, end)} equals one of {@code names}, ignoring case. */
    private boolean rangeIsOneOf(int start, int end, CharSequence[] names) {
        for (CharSequence name : names) {
            if (FieldSyntax.equalsIgnoreCase(bytes, start, end, name)) {
                return true;
            }
        }
        return false;
    }

    /** Removes every field (received or added) whose name is {@code bytes[start, end)}. */
    private void removeNamed(int start, int end) {
        int length = end - start;
        int received = (receivedNames & FieldSyntax.nameBit(bytes, start, end)) != 0 ? count : 0;
        for (int i = 0; i < received; i++) {
            int k = i * STRIDE;
            if (at[k + 1] - at[k] == length && FieldSyntax.sameIgnoringCase(bytes, at[k], start, length)) {
                markRemoved(i);
            }
        }
        if (extraCount > 0) {
            removeExtra(new String(bytes, start, length, StandardCharsets.ISO_8859_1));
        }
    }
}
