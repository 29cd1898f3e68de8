package io.fulcrum.balancer.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
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
 * goes to a small ordinary header map written after the received ones. Order among fields of the
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
    /** Fields added or set after receipt; {@code null} until the first. */
    private HttpHeaders extra;

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

    private HttpHeaders extra() {
        if (extra == null) {
            extra = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        }
        return extra;
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
        if (extra != null && !extra.isEmpty()) {
            encodeFields(extra, out);
        }
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
        return received + (extra == null ? 0 : extra.size() * 64);
    }

    // ---- HttpHeaders ----

    @Override
    public String get(String name) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name) && live(i)) {
                return value(i);
            }
        }
        return extra == null ? null : extra.get(name);
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
        if (extra != null) {
            all.addAll(extra.getAll(name));
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
        if (extra != null) {
            all.addAll(extra.entries());
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
        return extra != null && extra.contains(name);
    }

    @Override
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
        return count - removedCount + (extra == null ? 0 : extra.size());
    }

    @Override
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < count; i++) {
            if (live(i)) {
                names.add(name(i));
            }
        }
        if (extra != null) {
            names.addAll(extra.names());
        }
        return names;
    }

    @Override
    public HttpHeaders add(String name, Object value) {
        extra().add(name, value);
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        extra().add(name, values);
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        extra().addInt(name, value);
        return this;
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        extra().addShort(name, value);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        removeReceived(name);
        extra().set(name, value);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        removeReceived(name);
        extra().set(name, values);
        return this;
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        removeReceived(name);
        extra().setInt(name, value);
        return this;
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        removeReceived(name);
        extra().setShort(name, value);
        return this;
    }

    @Override
    public HttpHeaders remove(String name) {
        removeReceived(name);
        if (extra != null) {
            extra.remove(name);
        }
        return this;
    }

    private void removeReceived(CharSequence name) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name)) {
                markRemoved(i);
            }
        }
    }

    @Override
    public HttpHeaders clear() {
        for (int i = 0; i < count; i++) {
            markRemoved(i);
        }
        if (extra != null) {
            extra.clear();
        }
        return this;
    }
}
