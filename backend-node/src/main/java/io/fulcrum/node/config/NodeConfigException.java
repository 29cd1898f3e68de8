package io.fulcrum.node.config;

import java.util.List;

/**
 * A node configuration file that cannot be used. Carries one line per problem, each naming the YAML
 * path (for example {@code store.pool-size: must be at least 1}), so an operator can fix all of them
 * in one pass.
 *
 * <p>Immutable and thread-safe.
 */
public final class NodeConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** Creates an exception listing {@code problems}, one per line. */
    public NodeConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** Returns the problems, each prefixed with the YAML path it concerns. */
    public List<String> problems() {
        return problems;
    }
}
