package io.fulcrum.node.config;

import io.fulcrum.config.ConfigProblems;
import java.util.List;

/**
 * A node configuration file that cannot be used. Carries one line per problem, each naming the YAML
 * path (for example {@code store.pool-size: must be at least 1}), so an operator can fix all of them
 * in one pass.
 *
 * <p>Immutable and thread-safe.
 */
public final class NodeConfigException extends ConfigProblems {
    private static final long serialVersionUID = 1L;

    /** Creates an exception listing {@code problems}, one per line. */
    public NodeConfigException(List<String> problems) {
        super(problems, "\n");
    }
}
