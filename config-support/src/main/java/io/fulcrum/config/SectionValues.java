package io.fulcrum.config;

import java.time.Duration;

/**
 * One section read through its {@link FieldTable}: each getter checks the value's type and
 * range as declared and falls back to the declared default (or to the one passed, for
 * sections that inherit from another). Confined to the mapper's thread.
 */
public final class SectionValues {
    private final YamlMapper mapper;
    private final YamlMapper.Section section;
    private final FieldTable table;

    SectionValues(YamlMapper mapper, YamlMapper.Section section, FieldTable table) {
        this.mapper = mapper;
        this.section = section;
        this.table = table;
        for (Field f : table.fields()) {
            if (f.required() && section.get(f.name()) == null) {
                String expected = f.type() == Field.Type.INTEGER
                        ? " (expected: " + YamlMapper.range(f.min(), f.max()) + ")" : "";
                mapper.problem(section.child(f.name()), section.node, "required" + expected);
            }
        }
    }

    /** The checked section (for hand-read fields). */
    public YamlMapper.Section section() {
        return section;
    }

    /** The declared default of {@code key}. */
    public Object defaultValue(String key) {
        Field f = table.field(key);
        if (f == null) {
            throw new IllegalArgumentException("no field " + key + " in " + table.keys());
        }
        return f.defaultValue();
    }

    /** Whether the file gives {@code key} (null counts as given). */
    public boolean has(String key) {
        return section.get(key) != null;
    }

    private Field field(String key, Field.Type type) {
        Field f = table.field(key);
        if (f == null || f.type() != type) {
            throw new IllegalArgumentException("no " + type + " field " + key + " in " + table.keys());
        }
        return f;
    }

    public String string(String key) {
        return string(key, (String) field(key, Field.Type.STRING).defaultValue());
    }

    public String string(String key, String def) {
        field(key, Field.Type.STRING);
        return mapper.string(section, key, def);
    }

    public String name(String key) {
        Field f = field(key, Field.Type.NAME);
        YamlMapper.Entry e = section.get(key);
        if (e == null) {
            return (String) f.defaultValue();
        }
        String text = mapper.nameValue(e, key.equals("region") ? "region name" : key.replace('-', ' '));
        return text == null ? (String) f.defaultValue() : text;
    }

    public int integer(String key) {
        return (int) longInteger(key);
    }

    public int integer(String key, int def) {
        return (int) longInteger(key, def);
    }

    public long longInteger(String key) {
        Object def = field(key, Field.Type.INTEGER).defaultValue();
        return longInteger(key, def == null ? -1 : ((Number) def).longValue());
    }

    public long longInteger(String key, long def) {
        Field f = field(key, Field.Type.INTEGER);
        return mapper.longInteger(section, key, def, f.min(), f.max());
    }

    public Duration duration(String key) {
        return duration(key, (Duration) field(key, Field.Type.DURATION).defaultValue());
    }

    public Duration duration(String key, Duration def) {
        Field f = field(key, Field.Type.DURATION);
        return mapper.duration(section, key, def, f.min() > 0);
    }

    public boolean bool(String key) {
        return bool(key, (Boolean) field(key, Field.Type.BOOLEAN).defaultValue());
    }

    public boolean bool(String key, boolean def) {
        field(key, Field.Type.BOOLEAN);
        return mapper.bool(section, key, def);
    }

    public String oneOf(String key) {
        return oneOf(key, (String) field(key, Field.Type.ENUM).defaultValue(), "value");
    }

    /** One of the declared words; {@code noun} names it in messages. */
    public String oneOf(String key, String def, String noun) {
        Field f = field(key, Field.Type.ENUM);
        return mapper.oneOf(section, key, def, f.values(), noun);
    }
}
