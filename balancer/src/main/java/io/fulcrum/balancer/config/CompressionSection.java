package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a route's {@code compression} section. Problems are reported through the {@link Mapper},
 * with the same paths, line numbers and wording as every other section. Stateless.
 */
final class CompressionSection {
    static final List<String> ENCODINGS = Arrays.stream(CompressionConfig.Encoding.values())
            .map(CompressionConfig.Encoding::token).toList();
    /** {@code type/subtype} or {@code type/*}, RFC 9110 tokens. */
    private static final Pattern MEDIA_TYPE = Pattern.compile("[!#$%&'*+.^_`|~0-9a-z-]+/(\\*|[!#$%&'*+.^_`|~0-9a-z-]+)");

    private CompressionSection() {
    }

    /** The route's {@code compression}, or {@code null} when absent or after reporting a problem. */
    static CompressionConfig read(Mapper m, Section route) {
        Entry e = route.get("compression");
        if (e == null || Mapper.isNull(e.value())) {
            return null;
        }
        Section s = m.subsection(route, "compression", RouteSchema.COMPRESSION);
        int before = m.problems.size();
        List<CompressionConfig.Encoding> encodings = new ArrayList<>();
        for (Entry item : items(m, s.get("encodings"), "a list of encodings (gzip, zstd)")) {
            String text = m.scalarText(item, "gzip or zstd");
            if (text == null) {
                continue;
            }
            String token = text.toLowerCase(Locale.ROOT);
            if (!ENCODINGS.contains(token)) {
                m.problem(item.path(), item.value(), "unknown encoding \"" + text + "\"" + YamlMapper.hint(token, ENCODINGS)
                        + " (expected: gzip or zstd)");
            } else if (!encodings.contains(CompressionConfig.Encoding.valueOf(token.toUpperCase(Locale.ROOT)))) {
                encodings.add(CompressionConfig.Encoding.valueOf(token.toUpperCase(Locale.ROOT)));
            }
        }
        if (s.get("encodings") == null) {
            encodings.add(CompressionConfig.Encoding.GZIP);
        }
        List<String> types = new ArrayList<>();
        for (Entry item : items(m, s.get("types"), "a list of media types such as text/html or text/*")) {
            String text = m.scalarText(item, "a media type");
            if (text == null) {
                continue;
            }
            String type = text.trim().toLowerCase(Locale.ROOT);
            if (!MEDIA_TYPE.matcher(type).matches()) {
                m.problem(item.path(), item.value(), "not a media type: \"" + text
                        + "\" (expected: type/subtype such as application/json, or type/* such as text/*)");
            } else if (!types.contains(type)) {
                types.add(type);
            }
        }
        if (s.get("types") == null) {
            types.addAll(CompressionConfig.DEFAULT_TYPES);
        }
        SectionValues v = m.read(s, RouteSchema.COMPRESSION);
        long minBytes = v.longInteger("min-bytes");
        int level = v.integer("gzip-level");
        if (m.problems.size() != before || encodings.isEmpty() || types.isEmpty()) {
            return null;
        }
        return new CompressionConfig(encodings, types, minBytes, level);
    }

    /** The items of a non-empty list at {@code e}; none when absent or not one (reported). */
    private static List<Entry> items(Mapper m, Entry e, String expected) {
        List<Entry> items = new ArrayList<>();
        if (e == null || !m.checkTag(e.path(), e.value())) {
            return items;
        }
        if (!(e.value() instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            m.problem(e.path(), e.value(), "expected " + expected);
            return items;
        }
        for (int i = 0; i < seq.getValue().size(); i++) {
            items.add(new Entry(e.path() + "[" + i + "]", e.key(), seq.getValue().get(i)));
        }
        return items;
    }
}
