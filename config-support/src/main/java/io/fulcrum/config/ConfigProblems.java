package io.fulcrum.config;

import java.util.List;

/**
 * The problems that make a YAML file unusable, one message each, in file order. Each module's
 * loader throws its own subclass (the balancer's {@code ConfigException}, the node's
 * {@code NodeConfigException}), whose message has one problem per line.
 */
public class ConfigProblems extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** @param problems one message each, already naming the field path and line; joined with "; " */
    public ConfigProblems(List<String> problems) {
        this(problems, "; ");
    }

    /** @param separator what the exception's message puts between two problems */
    protected ConfigProblems(List<String> problems, String separator) {
        super(String.join(separator, problems));
        this.problems = List.copyOf(problems);
    }

    /** The problems, in file order. */
    public List<String> problems() {
        return problems;
    }
}
