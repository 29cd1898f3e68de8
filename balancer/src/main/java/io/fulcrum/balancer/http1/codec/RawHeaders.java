package io.fulcrum.balancer.http1.codec;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The header fields of a message as they were received, seen through Netty's {@link HttpHeaders}:
 * the bytes of its header section and the offsets of each field's name and value, parsed and
 * validated once by {@link Http1Decoder} and kept in its {@link FieldStore}. Nothing is decoded
 * into strings until asked for, and the fields that are neither removed nor replaced are written
 * out again as the bytes they came in ({@link #encode(io.netty.buffer.ByteBuf)}), which is what a
 * proxy does with most of them.
 *
 * <p>Changes are kept beside the received bytes: a removed field is marked, an added or set field
 * goes to a short list written after the received ones (validated as a received field would be,
 * by {@link FieldSyntax#validate}). Order among fields of the same name is kept; the received
 * fields come first.
 *
 * <p>Name comparisons are case-insensitive (RFC 9110 section 5.1). Not thread safe: a message's
 * headers are confined to its channel's event loop.
 */
public final class RawHeaders extends FieldStore {
    RawHeaders(byte[] bytes, int[] at, int count) {
        super(bytes, at, count);
    }

    /** Headers with no received field (a message that failed to parse). */
    static RawHeaders empty() {
        return new RawHeaders(new byte[0], new int[0], 0);
    }

    /** Receives the fields of {@link #forEachField}. */
    public interface FieldVisitor {
        /** @param lowerCaseName the field's name in lower case, as HTTP/2 writes it */
        void field(AsciiString lowerCaseName, CharSequence value);
    }

    private void addExtra(CharSequence name, Object value) {
        CharSequence text = value instanceof CharSequence ? (CharSequence) value
                : value instanceof Date ? DateFormatter.format((Date) value) : String.valueOf(value);
        FieldSyntax.validate(name, text);
        addChecked(name, text);
    }

    @Override
    public String get(String name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : valueAt(i);
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
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            all.add(valueAt(i));
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
        return indexOf(name, 0) >= 0;
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
        int received = mayHaveReceived(name) ? count : 0;
        for (int i = 0; i < received; i++) {
            if (nameIs(i, name)) {
                markRemoved(i);
            }
        }
        removeExtra(name);
        return this;
    }

    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            if (listsAt(i, value, ignoreCase)) {
                return true;
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
