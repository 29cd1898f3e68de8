package io.fulcrum.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * The type conversions of config values: one composed YAML node into a string, name, integer,
 * number, duration, boolean or one of a set of words, or the reason it is not one. Knows nothing of
 * paths, lines or tags: {@link YamlMapper} checks tags first and reports the reason at the node.
 * Stateless and thread-safe.
 */
final class Scalars {
    /** Plain decimal integers only: YAML 1.1 octal ({@code 010}), hex and {@code 1_000} are refused. */
    private static final Pattern DECIMAL = Pattern.compile("-?(0|[1-9][0-9]*)");
    private static final Pattern DECIMAL_FRACTION =
            Pattern.compile("[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?");

    private Scalars() {
    }

    /**
     * A converted value, or the reason there is none ({@code value} then null).
     *
     * @param value the value
     * @param problem what is wrong with the node, without path or line; null when converted
     */
    record Converted<T>(T value, String problem) {
        static <T> Converted<T> of(T value) {
            return new Converted<>(value, null);
        }

        static <T> Converted<T> refused(String problem) {
            return new Converted<>(null, problem);
        }
    }

    /**
     * A scalar used as a string, by its source text, so {@code no} is "no", not YAML 1.1's false;
     * {@code expected} names what was wanted ("a string").
     */
    static Converted<String> text(Node v, String expected) {
        if (!(v instanceof ScalarNode s) || isNull(v)) {
            return Converted.refused("expected " + expected + ", got " + describe(v));
        }
        return s.getValue().isEmpty() ? Converted.refused("must not be empty") : Converted.of(s.getValue());
    }

    /** A name of the {@link YamlMapper#ID} syntax; {@code what} names it ("region name"). */
    static Converted<String> name(Node v, String what) {
        Converted<String> text = text(v, "a " + what);
        if (text.value() != null && !YamlMapper.ID.matcher(text.value()).matches()) {
            return Converted.refused("not a valid " + what + ": \"" + text.value()
                    + "\" (expected: letters, digits, '.', '_' or '-')");
        }
        return text;
    }

    /** One of {@code values}, with a "did you mean" for near misses; {@code noun} names it ("policy"). */
    static Converted<String> oneOf(Node v, List<String> values, String noun) {
        Converted<String> text = text(v, values.size() == 1 ? values.get(0)
                : String.join(", ", values.subList(0, values.size() - 1)) + " or " + values.get(values.size() - 1));
        if (text.value() != null && !values.contains(text.value())) {
            return Converted.refused("unknown " + noun + " \"" + text.value() + "\"" + DidYouMean.hint(text.value(), values)
                    + " (expected: " + String.join(", ", values) + ")");
        }
        return text;
    }

    /** Exactly {@code true} or {@code false}. */
    static Converted<Boolean> bool(Node v) {
        if (v instanceof ScalarNode sn && sn.getTag().equals(Tag.BOOL)
                && (sn.getValue().equals("true") || sn.getValue().equals("false"))) {
            return Converted.of(sn.getValue().equals("true"));
        }
        return Converted.refused("expected true or false, got " + describe(v));
    }

    /** A plain decimal integer in {@code min..max}. */
    static Converted<Long> integer(Node v, long min, long max) {
        if (!(v instanceof ScalarNode sn) || !sn.getTag().equals(Tag.INT) || !DECIMAL.matcher(sn.getValue()).matches()) {
            return Converted.refused("expected an integer, got " + describe(v));
        }
        long value;
        try {
            value = Long.parseLong(sn.getValue());
        } catch (NumberFormatException ex) {
            return Converted.refused("out of range: " + sn.getValue() + " (expected: " + range(min, max) + ")");
        }
        if (value < min || value > max) {
            return Converted.refused("out of range: " + value + " (expected: " + range(min, max) + ")");
        }
        return Converted.of(value);
    }

    /** A decimal number, with or without a fraction or exponent. */
    static Converted<Double> number(Node v) {
        if (v instanceof ScalarNode sn && (sn.getTag().equals(Tag.FLOAT) || sn.getTag().equals(Tag.INT))
                && DECIMAL_FRACTION.matcher(sn.getValue()).matches()) {
            return Converted.of(Double.parseDouble(sn.getValue()));
        }
        return Converted.refused("expected a number, got " + describe(v));
    }

    /** A duration like {@code 250ms} ({@link Durations}); {@code positive}: zero is refused. */
    static Converted<Duration> duration(Node v, boolean positive) {
        if (!(v instanceof ScalarNode sn) || isNull(v)) {
            return Converted.refused("expected a duration like 250ms, 2s, 1m, got " + describe(v));
        }
        Optional<Duration> d = Durations.parse(sn.getValue());
        if (d.isEmpty()) {
            return Converted.refused("\"" + sn.getValue() + "\" is " + Durations.EXPECTED);
        }
        if (positive && d.get().isZero()) {
            return Converted.refused("out of range: " + sn.getValue() + " (expected: > 0)");
        }
        return Converted.of(d.get());
    }

    /** See {@link YamlMapper#isNull}. */
    static boolean isNull(Node node) {
        return node instanceof ScalarNode && node.getTag().equals(Tag.NULL);
    }

    /** See {@link YamlMapper#range}. */
    static String range(long min, long max) {
        if (max == Integer.MAX_VALUE || max == Long.MAX_VALUE) {
            return ">= " + min;
        }
        return min + "-" + max;
    }

    /** See {@link YamlMapper#describe}. */
    static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        ScalarNode s = (ScalarNode) node;
        if (s.getTag().equals(Tag.NULL)) {
            return "nothing (null)";
        }
        String v = s.getValue();
        if (v.length() > 40) {
            v = v.substring(0, 37) + "...";
        }
        return s.isPlain() && !s.getTag().equals(Tag.STR) ? v : "\"" + v + "\"";
    }
}
