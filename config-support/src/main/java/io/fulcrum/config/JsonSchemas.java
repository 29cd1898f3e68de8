package io.fulcrum.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@link FieldTable} as a JSON Schema (draft-07, which editors' YAML plugins such as VS
 * Code's read): every key with its type, range, default and description, unknown keys refused
 * ({@code additionalProperties: false}). Each description ends with whether a reload applies the
 * key live or it needs a restart, also given as {@code x-fulcrum-reload}. Stateless and thread-safe.
 */
public final class JsonSchemas {
    /** The draft the schemas follow. */
    public static final String DRAFT = "http://json-schema.org/draft-07/schema#";
    /** Set to {@code true} to make the schema tests write the files instead of comparing them. */
    public static final String WRITE_PROPERTY = "fulcrum.schema.write";

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonSchemas() {
    }

    /** The whole document for {@code table}, with {@code $schema}, {@code $id} and {@code title}. */
    public static Map<String, Object> document(FieldTable table, String id) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("$schema", DRAFT);
        doc.put("$id", id);
        doc.put("title", table.description());
        doc.putAll(of(table));
        doc.remove("description");
        doc.put("type", "object");
        return doc;
    }

    /** The schema of one section (a mapping; null means every default). */
    public static Map<String, Object> of(FieldTable table) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("description", table.description());
        s.put("type", List.of("object", "null"));
        Map<String, Object> props = new LinkedHashMap<>();
        List<String> required = new ArrayList<>();
        for (Field f : table.fields()) {
            props.put(f.name(), field(f));
            if (f.required()) {
                required.add(f.name());
            }
        }
        s.put("properties", props);
        if (!required.isEmpty()) {
            s.put("required", required);
        }
        s.put("additionalProperties", false);
        return s;
    }

    private static Map<String, Object> field(Field f) {
        Map<String, Object> s = new LinkedHashMap<>();
        boolean nested = f.type() == Field.Type.SECTION || f.type() == Field.Type.SECTIONS
                || f.type() == Field.Type.NAMED_SECTIONS;
        String reload = switch (f.reload()) {
            case LIVE -> "a reload applies it";
            case RESTART -> "needs a restart";
            case START_ONLY -> "read at start";
        };
        // A section's keys say for themselves whether a reload applies them.
        s.put("description", nested ? f.description() : f.description() + " (" + reload + ")");
        switch (f.type()) {
            case STRING -> {
                s.put("type", "string");
                s.put("minLength", 1);
            }
            case NAME -> {
                s.put("type", "string");
                s.put("pattern", "^" + YamlMapper.ID.pattern() + "$");
            }
            case INTEGER -> {
                s.put("type", "integer");
                s.put("minimum", f.min());
                if (f.max() != Integer.MAX_VALUE && f.max() != Long.MAX_VALUE) {
                    s.put("maximum", f.max());
                }
            }
            case DURATION -> {
                s.put("type", f.defaultValue() == null ? List.of("string", "null") : "string");
                s.put("pattern", "^" + Durations.PATTERN + "$");
            }
            case BOOLEAN -> s.put("type", "boolean");
            case ENUM -> s.put("enum", f.values());
            case SECTION -> {
                Map<String, Object> section = of(f.section());
                section.remove("description");
                s.putAll(section);
            }
            case SECTIONS -> {
                s.put("type", "array");
                Map<String, Object> item = of(f.section());
                item.put("type", "object");
                s.put("items", item);
            }
            case NAMED_SECTIONS -> {
                s.put("type", "object");
                s.put("propertyNames", Map.of("pattern", "^" + YamlMapper.ID.pattern() + "$"));
                Map<String, Object> item = of(f.section());
                item.put("type", "object");
                s.put("additionalProperties", item);
            }
            case CUSTOM -> {
            }
        }
        s.putAll(sorted(f.schema()));
        if (f.defaultValue() != null) {
            s.put("default", f.defaultValue() instanceof Duration d ? Durations.format(d) : f.defaultValue());
        }
        if (!nested) {
            s.put("x-fulcrum-reload", f.reload().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        }
        return s;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> sorted(Map<String, Object> m) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v instanceof Map<?, ?> nested ? sorted((Map<String, Object>) nested) : v));
        return out;
    }

    /**
     * The key paths of {@code yaml} (as loaded by SnakeYAML: maps, lists, scalars) and whether the
     * schema declares each: true when declared. Paths are dotted; list items add {@code []}, names
     * of a named section ({@code pools}) read {@code *}: {@code pools.*.backends[].id}.
     */
    public static Map<String, Boolean> keys(Map<String, Object> schema, Object yaml) {
        Map<String, Boolean> out = new TreeMap<>();
        walk(schema, yaml, "", out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void walk(Map<String, Object> schema, Object value, String prefix, Map<String, Boolean> out) {
        if (schema == null) {
            return;
        }
        if (schema.get("oneOf") instanceof List<?> alternatives) {
            for (Object a : alternatives) {
                if (a instanceof Map<?, ?> m && m.containsKey("properties")) {
                    schema = (Map<String, Object>) m;
                }
            }
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> props = (Map<String, Object>) schema.getOrDefault("properties", Map.of());
            Object additional = schema.get("additionalProperties");
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                if (props.containsKey(key)) {
                    out.put(prefix + key, true);
                    walk((Map<String, Object>) props.get(key), e.getValue(), prefix + key + ".", out);
                } else if (additional instanceof Map<?, ?> a && a.containsKey("properties")) {
                    walk((Map<String, Object>) a, e.getValue(), prefix + "*.", out);
                } else if (!(additional instanceof Map<?, ?>)) {
                    out.put(prefix + key, false);
                }
            }
        } else if (value instanceof List<?> list && schema.get("items") instanceof Map<?, ?> items) {
            String listPrefix = prefix.isEmpty() ? "[]." : prefix.substring(0, prefix.length() - 1) + "[].";
            for (Object item : list) {
                walk((Map<String, Object>) items, item, listPrefix, out);
            }
        }
    }

    /** Every key path the schema declares, in the notation of {@link #keys}. */
    public static List<String> declared(Map<String, Object> schema) {
        List<String> out = new ArrayList<>();
        declared(schema, "", out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void declared(Map<String, Object> schema, String prefix, List<String> out) {
        if (schema.get("properties") instanceof Map<?, ?> props) {
            for (Map.Entry<?, ?> e : props.entrySet()) {
                String path = prefix + e.getKey();
                out.add(path);
                declared((Map<String, Object>) e.getValue(), path + ".", out);
            }
        }
        if (schema.get("items") instanceof Map<?, ?> items && !prefix.isEmpty()) {
            declared((Map<String, Object>) items, prefix.substring(0, prefix.length() - 1) + "[].", out);
        }
        if (schema.get("additionalProperties") instanceof Map<?, ?> a && a.containsKey("properties")) {
            declared((Map<String, Object>) a, prefix + "*.", out);
        }
    }

    /** The document as pretty JSON text, ending in a newline. */
    public static String text(Map<String, Object> document) {
        try {
            DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                    .withSeparators(Separators.createDefaultInstance()
                            .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n"));
            return JSON.writer(printer).writeValueAsString(document) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Compares {@code file} with the schema of {@code table}; writes it instead when the system
     * property {@value #WRITE_PROPERTY} is true. Returns null when they agree (or it was written),
     * else a message saying how to regenerate.
     */
    public static String check(FieldTable table, String id, Path file, String regenerate) throws IOException {
        String expected = text(document(table, id));
        if (Boolean.getBoolean(WRITE_PROPERTY)) {
            Files.writeString(file, expected, StandardCharsets.UTF_8);
            return null;
        }
        String actual = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        return expected.equals(actual) ? null
                : file + " is not what the field tables generate; regenerate it with " + regenerate;
    }
}
