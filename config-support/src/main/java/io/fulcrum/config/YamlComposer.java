package io.fulcrum.config;

import java.io.StringReader;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Turns YAML text into a node tree with line marks, never into Java objects, and notes which
 * nodes carry an explicit tag, which the tree alone no longer tells. Syntax errors become one
 * line naming the source and the line. Stateless and thread-safe: each call has its own parser.
 */
final class YamlComposer {
    private YamlComposer() {
    }

    /** See {@link YamlMapper#compose}. */
    static YamlMapper.Document compose(String yaml, String source) throws ConfigProblems {
        Yaml parser = new Yaml(new SafeConstructor(new LoaderOptions()));
        Set<Integer> tagged = new HashSet<>();
        try {
            // A first pass over the events finds explicit tags (`!!str`, `!foo`): the composed tree
            // no longer tells an explicit `!!str 5` from a plain string.
            for (Event event : parser.parse(new StringReader(yaml))) {
                String tag = event instanceof ScalarEvent s ? s.getTag()
                        : event instanceof CollectionStartEvent c ? c.getTag() : null;
                if (tag != null && !tag.equals("!")) {
                    tagged.add(event.getStartMark().getIndex());
                }
            }
            Node root = parser.compose(new StringReader(yaml));
            return new YamlMapper.Document(root == null || Scalars.isNull(root) ? null : root, tagged);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String where = mark == null ? "" : " (line " + (mark.getLine() + 1) + ")";
            String what = e.getProblem() != null ? e.getProblem() : e.getMessage();
            if (e.getContext() != null) {
                what = e.getContext() + ", " + what;
            }
            throw new ConfigProblems(List.of(source + ": not valid YAML: " + oneLine(what) + where));
        } catch (YAMLException e) {
            throw new ConfigProblems(List.of(source + ": not valid YAML: " + oneLine(e.getMessage())));
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
