package io.fulcrum.config;

import java.util.List;
import java.util.Map;

/**
 * One key of a YAML section, declared once: its type, default, range, whether a reload applies it
 * live, and a one-line description. {@link YamlMapper#read} checks values against it and
 * {@link JsonSchemas} describes it for editors.
 *
 * @param name the YAML key
 * @param type how the value is read
 * @param defaultValue the value when the key is absent (null: none, or computed by the loader);
 *     a {@link java.time.Duration} for durations
 * @param required whether the key must be given
 * @param min smallest allowed number (integers)
 * @param max largest allowed number (integers)
 * @param values the allowed words ({@link Type#ENUM})
 * @param section the nested section ({@link Type#SECTION}), or the shape of each list item when a
 *     list of sections
 * @param schema extra JSON Schema keywords for the value (for {@link Type#CUSTOM} the whole schema)
 * @param reload whether a reload applies a change live or it needs a restart
 * @param description one line for operators and editors
 */
public record Field(String name, Type type, Object defaultValue, boolean required, long min, long max,
        List<String> values, FieldTable section, Map<String, Object> schema, Reload reload, String description) {
    /** How a value is read. */
    public enum Type {
        /** Any non-empty scalar, by its source text. */
        STRING,
        /** Letters, digits, '.', '_' or '-'. */
        NAME,
        /** A plain decimal integer within min-max. */
        INTEGER,
        /** A duration like 250ms, 2s, 1m, 1h; min 1 means it must be positive. */
        DURATION,
        /** Exactly true or false. */
        BOOLEAN,
        /** One of {@link Field#values}. */
        ENUM,
        /** A nested mapping described by {@link Field#section}. */
        SECTION,
        /** A list of mappings, each described by {@link Field#section}. */
        SECTIONS,
        /** A mapping of names to mappings, each described by {@link Field#section}. */
        NAMED_SECTIONS,
        /** Read by hand in the loader; {@link Field#schema} describes it. */
        CUSTOM
    }

    /** Whether a reload applies a changed value. */
    public enum Reload {
        /** A reload applies it to new requests. */
        LIVE,
        /** Only read at start-up: a reload reports it under restartNeeded. */
        RESTART,
        /** Not reloadable at all (the file is only read at start). */
        START_ONLY
    }

    /** Validates the declaration. */
    public Field {
        values = values == null ? List.of() : List.copyOf(values);
        schema = schema == null ? Map.of() : Map.copyOf(schema);
        if ((type == Type.SECTION || type == Type.SECTIONS || type == Type.NAMED_SECTIONS) && section == null) {
            throw new IllegalArgumentException(name + ": a section field needs its table");
        }
    }
}
