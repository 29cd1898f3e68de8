package io.fulcrum.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Maps one composed YAML document into config values, collecting every problem with its field
 * path and line; shared by the balancer's and the node's loaders. Single use, confined to the
 * calling thread; subclasses add their sections.
 *
 * <p>The file is composed into a SnakeYAML node tree (never constructed into arbitrary Java
 * objects), so every problem can name its YAML path and line. Unknown and duplicate keys, YAML
 * tags, wrong types and out-of-range values are all errors. Plain scalars used as strings are
 * taken by their source text, so {@code region: no} is the region "no", never YAML 1.1's false.
 * Sections declared as a {@link FieldTable} are read by {@link #read}: keys, types, ranges and
 * defaults come from the table.
 *
 * <p>The mapper owns the structure (sections, keys, tags) and where each problem is (path and
 * line); {@code YamlComposer} parses the text, {@code Scalars} converts one value and says why it
 * cannot, and {@code DidYouMean} finds the near-miss key or word.
 */
public class YamlMapper {
    /** Letters, digits, '.', '_' or '-': ids, regions and pool names. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]+");

    /** A composed document and the start offsets of its explicitly tagged nodes. */
    public record Document(Node root, Set<Integer> tagged) {
    }

    /** One problem, sortable into file order. */
    public record Problem(int line, int column, int seq, String text) {
    }

    /** One key-value pair in a mapping, with its YAML path. */
    public record Entry(String path, Node key, Node value) {
    }

    /**
     * The checked keys of one YAML mapping. An absent, null or wrongly typed section is an empty one,
     * so its defaults apply and mapping goes on to find further problems.
     */
    public static final class Section {
        public final String path;
        public final Node node;
        public final Map<String, Entry> entries;

        public Section(String path, Node node, Map<String, Entry> entries) {
            this.path = path;
            this.node = node;
            this.entries = entries;
        }

        public Entry get(String key) {
            return entries.get(key);
        }

        public String child(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }
    }

    public final Set<Integer> tagged;
    /** The problems so far, in the order found (see {@link #sortedProblems}). */
    public final List<Problem> problems = new ArrayList<>();

    private boolean listKnownKeys;

    public YamlMapper(Set<Integer> tagged) {
        this.tagged = tagged;
    }

    /** Unknown keys without a close match then list the known ones; returns this mapper. */
    public YamlMapper listKnownKeys() {
        this.listKnownKeys = true;
        return this;
    }

    /**
     * Composes {@code yaml} into a node tree, noting explicit tags; {@code source} names the text in
     * messages about the file as a whole. Returns a null root for an empty document.
     */
    public static Document compose(String yaml, String source) throws ConfigProblems {
        return YamlComposer.compose(yaml, source);
    }

    public boolean hasProblems() {
        return !problems.isEmpty();
    }

    public List<String> sortedProblems() {
        return problems.stream()
                .sorted(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column)
                        .thenComparingInt(Problem::seq))
                .map(Problem::text)
                .collect(Collectors.toList());
    }

    public void problem(String path, Node at, String message) {
        Mark mark = at.getStartMark();
        int line = mark.getLine() + 1;
        problems.add(new Problem(line, mark.getColumn(), problems.size(),
                path + ": " + message + " (line " + line + ")"));
    }

    // ---- structure ------------------------------------------------------------------------

    /** The top-level mapping, checked against {@code table}; null after reporting. */
    public Section top(Node root, FieldTable table) {
        if (!(root instanceof MappingNode)) {
            problem("(top level)", root, "expected a mapping, got " + describe(root));
            return null;
        }
        return section(root, "", table.keys());
    }

    /** The nested section {@code key} of {@code parent}, its keys checked against {@code table}. */
    public Section subsection(Section parent, String key, FieldTable table) {
        return subsection(parent, key, table.keys());
    }

    public Section subsection(Section parent, String key, List<String> keys) {
        String path = parent.child(key);
        Entry e = parent.get(key);
        if (e == null || !checkTag(path, e.value()) || isNull(e.value())) {
            return new Section(path, e == null ? parent.node : e.value(), Map.of());
        }
        if (!(e.value() instanceof MappingNode)) {
            problem(path, e.value(), "expected a mapping, got " + describe(e.value()));
            return new Section(path, e.value(), Map.of());
        }
        Section s = section(e.value(), path, keys);
        return s == null ? new Section(path, e.value(), Map.of()) : s;
    }

    /** The nested section {@code key} of {@code parent}, read through its table. */
    public SectionValues read(Section parent, String key, FieldTable table) {
        return new SectionValues(this, subsection(parent, key, table.keys()), table);
    }

    /** An already checked section, read through its table. */
    public SectionValues read(Section s, FieldTable table) {
        return new SectionValues(this, s, table);
    }

    /** A mapping whose keys are names of the file's choosing (pools by name); see {@link #section(Node, String, List)}. */
    public Section anyKeys(Node node, String path) {
        return section(node, path, (List<String>) null);
    }

    /** A mapping whose keys are checked against {@code table}; see {@link #section(Node, String, List)}. */
    public Section section(Node node, String path, FieldTable table) {
        return section(node, path, table.keys());
    }

    /**
     * Checks keys of a mapping: scalar, untagged, known and unique ({@code keys} null: any name).
     * Returns null when tagged.
     */
    public Section section(Node node, String path, List<String> keys) {
        if (!checkTag(path.isEmpty() ? "(top level)" : path, node)) {
            return null;
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, Integer> firstLine = new HashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode sk) || isNull(k)) {
                problem(path.isEmpty() ? "(top level)" : path, k, "keys must be plain names, got " + describe(k));
                continue;
            }
            String name = sk.getValue();
            String keyPath = path.isEmpty() ? name : path + "." + name;
            if (!checkTag(keyPath, k)) {
                continue;
            }
            if (keys != null && !keys.contains(name)) {
                String hint = hint(name, keys);
                String message = name.equals("<<") ? "merge keys are not supported"
                        : "unknown key" + (hint.isEmpty() && listKnownKeys ? " (expected one of: "
                                + String.join(", ", keys) + ")" : hint);
                problem(keyPath, k, message);
                continue;
            }
            Integer first = firstLine.putIfAbsent(name, k.getStartMark().getLine() + 1);
            if (first != null) {
                problem(keyPath, k, "duplicate key, first at line " + first);
                continue;
            }
            entries.put(name, new Entry(keyPath, k, t.getValueNode()));
        }
        return new Section(path, node, entries);
    }

    /** Reports a tagged node; false when the node must not be used. */
    public boolean checkTag(String path, Node node) {
        if (tagged.contains(node.getStartMark().getIndex())) {
            problem(path, node, "YAML tags are not allowed (found " + node.getTag().getValue() + ")");
            return false;
        }
        return true;
    }

    // ---- scalar values --------------------------------------------------------------------

    /**
     * The value of {@code e} converted by {@code conversion}, or {@code def} after reporting why it
     * cannot be (a tag, or the conversion's reason) at the value's path and line.
     */
    private <T> T convert(Entry e, Function<Node, Scalars.Converted<T>> conversion, T def) {
        if (!checkTag(e.path(), e.value())) {
            return def;
        }
        Scalars.Converted<T> c = conversion.apply(e.value());
        if (c.problem() != null) {
            problem(e.path(), e.value(), c.problem());
            return def;
        }
        return c.value();
    }

    /**
     * The text of a scalar used as a string, or null after reporting. Any plain scalar is taken
     * by its source text, so {@code region: no} is the region "no", not YAML 1.1's boolean false.
     */
    public String scalarText(Entry e, String expected) {
        return convert(e, v -> Scalars.text(v, expected), null);
    }

    public String string(Section s, String key, String def) {
        Entry e = s.get(key);
        return e == null ? def : convert(e, v -> Scalars.text(v, "a string"), def);
    }

    /** A region name: same syntax as a backend id, since both appear in metrics tags and logs. */
    public String name(Section s, String key, String def) {
        Entry e = s.get(key);
        return e == null ? def : convert(e, v -> Scalars.name(v, "region name"), def);
    }

    public String nameValue(Entry e) {
        return nameValue(e, "region name");
    }

    /** A name of the {@link #ID} syntax; {@code what} names it in messages ("region name"). */
    public String nameValue(Entry e, String what) {
        return convert(e, v -> Scalars.name(v, what), null);
    }

    public boolean bool(Section s, String key, boolean def) {
        Entry e = s.get(key);
        return e == null ? def : convert(e, Scalars::bool, def);
    }

    public int integer(Section s, String key, int def, int min, int max) {
        return (int) longInteger(s, key, def, min, max);
    }

    public long longInteger(Section s, String key, long def, long min, long max) {
        Entry e = s.get(key);
        return e == null ? def : convert(e, v -> Scalars.integer(v, min, max), def);
    }

    public Double number(Entry e) {
        return convert(e, Scalars::number, null);
    }

    /**
     * The number at {@code key} of {@code s}, {@code def} when absent or wrong; a number outside
     * [min, max] ((min, max] when {@code aboveMin}) is a problem naming the range. A {@code max} of
     * {@link Double#MAX_VALUE} leaves the range open above.
     */
    public double number(Section s, String key, double def, double min, boolean aboveMin, double max) {
        Entry e = s.get(key);
        Double v = e == null ? null : number(e);
        if (v == null) {
            return def;
        }
        if ((aboveMin ? v > min : v >= min) && v <= max) {
            return v;
        }
        problem(e.path(), e.value(), "out of range: " + scalar(e.value()) + " (expected: " + (aboveMin ? "> " : ">= ")
                + plain(min) + (max == Double.MAX_VALUE ? "" : " and <= " + plain(max)) + ")");
        return def;
    }

    /** 1 rather than 1.0 for a whole number. */
    private static String plain(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    public Duration duration(Section s, String key, Duration def, boolean positive) {
        Entry e = s.get(key);
        return e == null ? def : convert(e, v -> Scalars.duration(v, positive), def);
    }

    /** One of {@code values}, with a "did you mean" for near misses. */
    public String oneOf(Section s, String key, String def, List<String> values) {
        return oneOf(s, key, def, values, "value");
    }

    /** One of {@code values}; {@code noun} names what it is in messages ("unknown policy ..."). */
    public String oneOf(Section s, String key, String def, List<String> values, String noun) {
        Entry e = s.get(key);
        return e == null ? def : convert(e, v -> Scalars.oneOf(v, values, noun), def);
    }

    public static boolean isNull(Node node) {
        return Scalars.isNull(node);
    }

    public static String scalar(Node node) {
        return ((ScalarNode) node).getValue();
    }

    /** An integer range in messages: {@code 0-65535}, or {@code >= 1} without an upper bound. */
    public static String range(long min, long max) {
        return Scalars.range(min, max);
    }

    /** A value in messages: "a mapping", "a list", "nothing (null)", or the scalar, quoted when a string. */
    public static String describe(Node node) {
        return Scalars.describe(node);
    }

    /**
     * A "did you mean" suffix naming the candidate closest to {@code word}, when one is close: same
     * letters ignoring case and separators ({@code maxInFlight}), or within a small edit distance.
     */
    public static String hint(String word, Collection<String> candidates) {
        return DidYouMean.hint(word, candidates);
    }
}
