package io.fulcrum.balancer.config;

import io.fulcrum.config.ConfigProblems;
import java.util.List;

/**
 * A configuration that cannot be used, with one line per problem, each naming the YAML path and
 * line, for example {@code backends[2].url: not an http URL (line 14)}.
 */
public final class ConfigException extends ConfigProblems {
    private static final long serialVersionUID = 1L;

    public ConfigException(List<String> problems) {
        super(problems, System.lineSeparator());
    }
}
