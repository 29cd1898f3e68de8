package io.fulcrum.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The declared keys of one YAML section, in documentation order. Immutable once built; the
 * builder is single use.
 *
 * @param description one line about the section
 * @param fields the keys, in order
 */
public record FieldTable(String description, List<Field> fields) {
    /** Copies the fields. */
    public FieldTable {
        fields = List.copyOf(fields);
    }

    /** The keys, in order. */
    public List<String> keys() {
        return fields.stream().map(Field::name).toList();
    }

    /** The field named {@code key}, or null. */
    public Field field(String key) {
        for (Field f : fields) {
            if (f.name().equals(key)) {
                return f;
            }
        }
        return null;
    }

    /** A copy with only {@code keys} (for sections that take part of another's keys). */
    public FieldTable only(String newDescription, List<String> keys) {
        List<Field> kept = new ArrayList<>();
        for (String k : keys) {
            Field f = field(k);
            if (f == null) {
                throw new IllegalArgumentException("no field " + k);
            }
            kept.add(f);
        }
        return new FieldTable(newDescription, kept);
    }

    /** Every field's dotted path with its reload behaviour, nested sections (not lists of them) included. */
    public Map<String, Field.Reload> reloadByPath() {
        Map<String, Field.Reload> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Field.Reload> out) {
        for (Field f : fields) {
            String path = prefix + f.name();
            out.put(path, f.reload());
            if (f.type() == Field.Type.SECTION) {
                f.section().collect(path + ".", out);
            }
        }
    }

    /**
     * The settings a reload cannot apply, as dotted paths: a nested section whose every key needs
     * a restart is one setting ({@code health}), otherwise each such key is ({@code timeouts.connect}).
     * Lists and maps of sections are left to the caller.
     */
    public List<String> restartUnits() {
        List<String> out = new ArrayList<>();
        units("", out);
        return out;
    }

    private void units(String prefix, List<String> out) {
        for (Field f : fields) {
            String path = prefix + f.name();
            if (f.type() == Field.Type.SECTION) {
                if (f.section().allRestart()) {
                    out.add(path);
                } else {
                    f.section().units(path + ".", out);
                }
            } else if (f.reload() == Field.Reload.RESTART) {
                out.add(path);
            }
        }
    }

    private boolean allRestart() {
        for (Field f : fields) {
            boolean restart = f.type() == Field.Type.SECTION ? f.section().allRestart() : f.reload() == Field.Reload.RESTART;
            if (!restart) {
                return false;
            }
        }
        return !fields.isEmpty();
    }

    /** Starts a table. */
    public static Builder builder(String description) {
        return new Builder(description);
    }

    /** Collects fields in order. Single use. */
    public static final class Builder {
        private final String description;
        private final List<Field> fields = new ArrayList<>();
        private Field.Reload reload = Field.Reload.LIVE;

        private Builder(String description) {
            this.description = description;
        }

        /** The reload behaviour of the fields added after this call (initially live). */
        public Builder reload(Field.Reload r) {
            this.reload = r;
            return this;
        }

        /** Adds a field as given. */
        public Builder add(Field f) {
            fields.add(f);
            return this;
        }

        private Builder add(String name, Field.Type type, Object def, boolean required, long min, long max,
                List<String> values, FieldTable section, Map<String, Object> schema, String doc) {
            return add(new Field(name, type, def, required, min, max, values, section, schema, reload, doc));
        }

        /** A non-empty string. */
        public Builder string(String name, String def, String doc) {
            return add(name, Field.Type.STRING, def, false, 0, 0, null, null, null, doc);
        }

        /** A string with extra schema keywords (format, pattern). */
        public Builder string(String name, String def, Map<String, Object> schema, String doc) {
            return add(name, Field.Type.STRING, def, false, 0, 0, null, null, schema, doc);
        }

        /** A required name (letters, digits, '.', '_' or '-'). */
        public Builder requiredName(String name, String doc) {
            return add(name, Field.Type.NAME, null, true, 0, 0, null, null, null, doc);
        }

        /** A name (letters, digits, '.', '_' or '-'). */
        public Builder name(String name, String def, String doc) {
            return add(name, Field.Type.NAME, def, false, 0, 0, null, null, null, doc);
        }

        /** An integer in {@code min..max}. */
        public Builder integer(String name, long def, long min, long max, String doc) {
            return add(name, Field.Type.INTEGER, def, false, min, max, null, null, null, doc);
        }

        /** An integer of at least 1 with no upper bound: a count or a size. */
        public Builder positiveInteger(String name, long def, String doc) {
            return integer(name, def, 1, Integer.MAX_VALUE, doc);
        }

        /** An integer in {@code min..max} whose default the loader computes ({@code doc} says how). */
        public Builder computedInteger(String name, long min, long max, String doc) {
            return add(name, Field.Type.INTEGER, null, false, min, max, null, null, null, doc);
        }

        /** A required integer in {@code min..max}. */
        public Builder requiredInteger(String name, long min, long max, String doc) {
            return add(name, Field.Type.INTEGER, null, true, min, max, null, null, null, doc);
        }

        /** A duration; {@code positive}: zero is refused. */
        public Builder duration(String name, Duration def, boolean positive, String doc) {
            return add(name, Field.Type.DURATION, def, false, positive ? 1 : 0, 0, null, null, null, doc);
        }

        /** true or false. */
        public Builder bool(String name, boolean def, String doc) {
            return add(name, Field.Type.BOOLEAN, def, false, 0, 0, null, null, null, doc);
        }

        /** One of {@code values}. */
        public Builder oneOf(String name, String def, List<String> values, String doc) {
            return add(name, Field.Type.ENUM, def, false, 0, 0, values, null, null, doc);
        }

        /** A nested section; its fields carry their own reload behaviour. */
        public Builder section(String name, FieldTable table, String doc) {
            return add(name, Field.Type.SECTION, null, false, 0, 0, null, table, null, doc);
        }

        /** A list of sections; the loader reads it by hand, {@code table} declares each item's keys. */
        public Builder sections(String name, FieldTable table, String doc) {
            return add(name, Field.Type.SECTIONS, null, false, 0, 0, null, table, null, doc);
        }

        /** A mapping of names to sections; read by hand, {@code table} declares each value's keys. */
        public Builder namedSections(String name, FieldTable table, String doc) {
            return add(name, Field.Type.NAMED_SECTIONS, null, false, 0, 0, null, table, null, doc);
        }

        /** A value the loader reads by hand; {@code schema} describes it; {@code def} documents the default. */
        public Builder custom(String name, Object def, Map<String, Object> schema, String doc) {
            return add(name, Field.Type.CUSTOM, def, false, 0, 0, null, null, schema, doc);
        }

        /** The table. */
        public FieldTable build() {
            return new FieldTable(description, fields);
        }
    }
}
