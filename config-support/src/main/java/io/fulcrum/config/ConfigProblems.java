package io.fulcrum.config;

import java.util.List;

/**
 * The problems that make a YAML file unusable, one line each, in file order. Each module's loader
 * turns it into its own {@code ConfigException}.
 */
public final class ConfigProblems extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** @param problems one message each, already naming the field path and line */
    public ConfigProblems(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    /** The problems, in file order. */
    public List<String> problems() {
        return problems;
    }
}
