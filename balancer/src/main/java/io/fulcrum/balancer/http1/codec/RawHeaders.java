package io.fulcrum.balancer.http1.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The header fields of a message as they were received: the bytes of its header section and the
 * offsets of each field's name and value, parsed and validated once by {@link Http1Decoder}.
 * Nothing is decoded into strings until asked for, and the fields that are neither removed nor
 * replaced are written out again as the bytes they came in ({@link #encode(ByteBuf)}), which is
 * what a proxy does with most of them.
 *
 * <p>Changes are kept beside the received bytes: a removed field is marked, an added or set field
 * goes to a short list written after the received ones (validated as a received field would be). Order among fields of the
 * same name is kept; the received fields come first.
 *
 * <p>Name comparisons are case-insensitive (RFC 9110 section 5.1). Not thread safe.
 */
public final class RawHeaders extends HttpHeaders {
    /** Field i occupies {@code at[5i..5i+4]}: name start, name end, value start, value end, line end. */
    private static final int STRIDE = 5;
    private static final byte[] LOWER = new byte[256];

    static {
        for (int i = 0; i < 256; i++) {
            LOWER[i] = (byte) (i >= 'A' && i <= 'Z' ? i + 32 : i);
        }
    }

    private final byte[] bytes;
    private final int[] at;
    private final int count;
    /** Bit i set: received field i was removed. Allocated on the first removal. */
    private long[] removed;
    private int removedCount;
    /** Fields added or set after receipt, in order; the arrays are {@code null} until the first. */
    private CharSequence[] extra;
    private int extraCount;

    RawHeaders(byte[] bytes, int[] at, int count) {
        this.bytes = bytes;
        this.at = at;
        this.count = count;
    }

    /** Headers with no received field (a message that failed to parse). */
    static RawHeaders empty() {
        return new RawHeaders(new byte[0], new int[0], 0);
    }

    private boolean live(int i) {
        return removed == null || (removed[i >>> 6] & (1L << i)) == 0;
    }

    private void markRemoved(int i) {
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
    private boolean nameIs(int i, CharSequence name) {
        int start = at[i * STRIDE];
        int length = at[i * STRIDE + 1] - start;
        if (name.length() != length) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            char c = name.charAt(k);
            if (c > 0xFF || LOWER[bytes[start + k] & 0xFF] != LOWER[c]) {
                return false;
            }
        }
        return true;
    }

    private String value(int i) {
        int start = at[i * STRIDE + 2];
        return new String(bytes, start, at[i * STRIDE + 3] - start, StandardCharsets.ISO_8859_1);
    }

    private String name(int i) {
        int start = at[i * STRIDE];
        return new String(bytes, start, at[i * STRIDE + 1] - start, StandardCharsets.ISO_8859_1);
    }

    private void addExtra(CharSequence name, Object value) {
        CharSequence text = value instanceof CharSequence ? (CharSequence) value
                : value instanceof Date ? DateFormatter.format((Date) value) : String.valueOf(value);
        validate(name, text);
        addChecked(name, text);
    }

    /**
     * Sets a field that needs no check of its characters: a name that is a valid token by
     * construction (a constant) and a value made only of received field values, which the parser
     * checked, and the proxy's own text (addresses, ids, constants). The proxy's forwarding fields
     * are set this way on every request; anything else goes through {@link #set(CharSequence, Object)}.
     */
    public void setChecked(AsciiString name, CharSequence value) {
        remove(name);
        addChecked(name, value);
    }

    private void addChecked(CharSequence name, CharSequence text) {
        if (extra == null) {
            // Room for the five fields a forwarded request gets.
            extra = new CharSequence[10];
        } else if (2 * extraCount == extra.length) {
            extra = Arrays.copyOf(extra, extra.length * 2);
        }
        extra[2 * extraCount] = name;
        extra[2 * extraCount + 1] = text;
        extraCount++;
    }

    /** A field added by code must be as valid as a received one: a token name, a value without CR, LF or NUL. */
    private static void validate(CharSequence name, CharSequence value) {
        if (name.length() == 0) {
            throw new IllegalArgumentException("empty header name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > 0xFF || !FieldParser.TCHAR[c]) {
                throw new IllegalArgumentException("invalid header name: " + name);
            }
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c > 0xFF || !FieldParser.FIELD_BYTE[c]) {
                throw new IllegalArgumentException("invalid value for header " + name);
            }
        }
    }

    private void removeExtraAll() {
        if (extra != null) {
            Arrays.fill(extra, null);
        }
        extraCount = 0;
    }

    private void removeExtra(CharSequence name) {
        if (extraCount == 0) {
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
     * Writes every field still present as {@code name: value CRLF}: the received ones as the bytes
     * they came in, runs of adjacent lines in one copy, then the added ones.
     */
    public void encode(ByteBuf out) {
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

    /** Receives the fields of {@link #forEachField}. */
    public interface FieldVisitor {
        /** @param lowerCaseName the field's name in lower case, as HTTP/2 writes it */
        void field(AsciiString lowerCaseName, CharSequence value);
    }

    /** Names a response often carries, kept once in lower case rather than copied per message. */
    private static final AsciiString[] COMMON_NAMES = {
        AsciiString.cached("content-type"), AsciiString.cached("content-length"), AsciiString.cached("date"),
        AsciiString.cached("server"), AsciiString.cached("last-modified"), AsciiString.cached("etag"),
        AsciiString.cached("accept-ranges"), AsciiString.cached("cache-control"), AsciiString.cached("vary"),
        AsciiString.cached("via"), AsciiString.cached("x-request-id"), AsciiString.cached("content-encoding"),
        AsciiString.cached("expires"), AsciiString.cached("location"), AsciiString.cached("set-cookie"),
    };

    /**
     * Visits every field still present, in order, with its name in lower case; values of received
     * fields are views of the received bytes, not copies. For writing the fields as HTTP/2 headers
     * without going through strings.
     */
    public void forEachField(FieldVisitor visitor) {
        for (int i = 0; i < count; i++) {
            if (!live(i)) {
                continue;
            }
            int valueStart = at[i * STRIDE + 2];
            visitor.field(lowerCaseName(i), new AsciiString(bytes, valueStart, at[i * STRIDE + 3] - valueStart, false));
        }
        for (int i = 0; i < extraCount; i++) {
            visitor.field(AsciiString.of(extra[2 * i]).toLowerCase(), extra[2 * i + 1]);
        }
    }

    private AsciiString lowerCaseName(int i) {
        int start = at[i * STRIDE];
        int length = at[i * STRIDE + 1] - start;
        for (AsciiString common : COMMON_NAMES) {
            if (common.length() == length && nameIs(i, common)) {
                return common;
            }
        }
        byte[] lower = new byte[length];
        for (int k = 0; k < length; k++) {
            lower[k] = LOWER[bytes[start + k] & 0xFF];
        }
        return new AsciiString(lower, false);
    }

    /** Writes ordinary header fields as {@code name: value CRLF}. */
    static void encodeFields(HttpHeaders headers, ByteBuf out) {
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            ByteBufUtil.writeAscii(out, field.getKey());
            out.writeByte(':').writeByte(' ');
            ByteBufUtil.writeAscii(out, field.getValue());
            out.writeByte('\r').writeByte('\n');
        }
    }

    /** An upper bound guess of {@link #encode}'s output size, to size the buffer once. */
    public int encodedSizeHint() {
        int received = count == 0 ? 0 : at[(count - 1) * STRIDE + 4] - at[0];
        int added = 0;
        for (int i = 0; i < extraCount; i++) {
            added += extra[2 * i].length() + extra[2 * i + 1].length() + 4;
        }
        return received + added;
    }

    // ---- HttpHeaders ----

    @Override
    public String get(String name) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name) && live(i)) {
                return value(i);
            }
        }
        for (int i = 0; i < extraCount; i++) {
            if (AsciiString.contentEqualsIgnoreCase(extra[2 * i], name)) {
                return extra[2 * i + 1].toString();
            }
        }
        return null;
    }

    @Override
    public Integer getInt(CharSequence name) {
        String v = get(name.toString());
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        Integer v = getInt(name);
        return v == null || v != v.shortValue() ? null : v.shortValue();
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        String v = get(name.toString());
        Date date = v == null ? null : DateFormatter.parseHttpDate(v);
        return date == null ? null : date.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        List<String> all = new ArrayList<>(2);
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name) && live(i)) {
                all.add(value(i));
            }
        }
        for (int i = 0; i < extraCount; i++) {
            if (AsciiString.contentEqualsIgnoreCase(extra[2 * i], name)) {
                all.add(extra[2 * i + 1].toString());
            }
        }
        return all;
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> all = new ArrayList<>(size());
        for (int i = 0; i < count; i++) {
            if (live(i)) {
                all.add(new AbstractMap.SimpleImmutableEntry<>(name(i), value(i)));
            }
        }
        for (int i = 0; i < extraCount; i++) {
            all.add(new AbstractMap.SimpleImmutableEntry<>(extra[2 * i].toString(), extra[2 * i + 1].toString()));
        }
        return all;
    }

    @Override
    public boolean contains(String name) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name) && live(i)) {
                return true;
            }
        }
        for (int i = 0; i < extraCount; i++) {
            if (AsciiString.contentEqualsIgnoreCase(extra[2 * i], name)) {
                return true;
            }
        }
        return false;
    }

    @Override
    @SuppressWarnings("deprecation") // Netty deprecates it for callers; a subclass must still provide it.
    public Iterator<Map.Entry<String, String>> iterator() {
        return entries().iterator();
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        List<Map.Entry<CharSequence, CharSequence>> all = new ArrayList<>(size());
        for (Map.Entry<String, String> e : entries()) {
            all.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
        }
        return all.iterator();
    }

    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    @Override
    public int size() {
        return count - removedCount + extraCount;
    }

    @Override
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < count; i++) {
            if (live(i)) {
                names.add(name(i));
            }
        }
        for (int i = 0; i < extraCount; i++) {
            names.add(extra[2 * i].toString());
        }
        return names;
    }

    @Override
    public HttpHeaders add(String name, Object value) {
        addExtra(name, value);
        return this;
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        addExtra(name, value);
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        for (Object value : values) {
            addExtra(name, value);
        }
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        addExtra(name, Integer.toString(value));
        return this;
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        addExtra(name, Short.toString(value));
        return this;
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        remove(name);
        addExtra(name, value);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        remove(name);
        return add(name, values);
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name)) {
                markRemoved(i);
            }
        }
        removeExtra(name);
        return this;
    }

    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name) && live(i) && listContains(bytes, at[i * STRIDE + 2], at[i * STRIDE + 3], value, ignoreCase)) {
                return true;
            }
        }
        for (int i = 0; i < extraCount; i++) {
            if (AsciiString.contentEqualsIgnoreCase(extra[2 * i], name)) {
                CharSequence v = extra[2 * i + 1];
                byte[] b = v.toString().getBytes(StandardCharsets.ISO_8859_1);
                if (listContains(b, 0, b.length, value, ignoreCase)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Removes, in one pass over the received fields, those named in {@code names} and those named
     * by a token of any field called {@code connection} (RFC 9110 section 7.6.1), except fields
     * for which {@code kept} is true. The forwarding proxy's hop-by-hop rule without building a
     * string per field.
     */
    public void removeHopByHop(CharSequence connection, CharSequence[] names, CharSequence[] kept) {
        for (int i = 0; i < count; i++) {
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
        for (int i = 0; i < count; i++) {
            int k = i * STRIDE;
            if (live(i) && rangeIsOneOf(at[k], at[k + 1], names)) {
                markRemoved(i);
            }
        }
        for (CharSequence name : names) {
            if (extraCount > 0) {
                removeExtra(name);
            }
        }
    }

    /** Whether {@code bytes[start, end)} equals one of {@code names}, ignoring case. */
    private boolean rangeIsOneOf(int start, int end, CharSequence[] names) {
        for (CharSequence name : names) {
            if (rangeIs(start, end, name)) {
                return true;
            }
        }
        return false;
    }

    private boolean rangeIs(int start, int end, CharSequence name) {
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

    /** Removes every field (received or added) whose name is {@code bytes[start, end)}. */
    private void removeNamed(int start, int end) {
        int length = end - start;
        for (int i = 0; i < count; i++) {
            int k = i * STRIDE;
            if (at[k + 1] - at[k] != length) {
                continue;
            }
            boolean same = true;
            for (int j = 0; j < length && same; j++) {
                same = LOWER[bytes[at[k] + j] & 0xFF] == LOWER[bytes[start + j] & 0xFF];
            }
            if (same) {
                markRemoved(i);
            }
        }
        if (extraCount > 0) {
            removeExtra(new String(bytes, start, length, StandardCharsets.ISO_8859_1));
        }
    }

    /** Whether the comma-separated list in {@code bytes[start, end)} has {@code value} as an element. */
    private static boolean listContains(byte[] bytes, int start, int end, CharSequence value, boolean ignoreCase) {
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

    @Override
    public HttpHeaders clear() {
        for (int i = 0; i < count; i++) {
            markRemoved(i);
        }
        removeExtraAll();
        return this;
    }
}
