package io.fulcrum.balancer.config;

import java.util.List;

/**
 * A configuration that cannot be used, with one line per problem, each naming the YAML path and
 * line, for example {@code backends[2].url: not an http URL (line 14)}.
 */
public final class ConfigException extends Exception {
    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join(System.lineSeparator(), problems));
        this.problems = List.copyOf(problems);
    }

    /** One line per problem, in file order. */
    public List<String> problems() {
        return problems;
    }
}
