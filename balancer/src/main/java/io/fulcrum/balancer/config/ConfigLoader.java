package io.fulcrum.balancer.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads balancer YAML into a validated {@link BalancerConfig}. Stateless and thread-safe.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    /** Loads and validates the file; every problem found is reported at once. */
    public static BalancerConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read (" + e.getMessage() + ")"));
        }
        return parse(text, file.toString());
    }

    /** Parses and validates YAML text; {@code source} names it in messages. */
    public static BalancerConfig parse(String yaml, String source) throws ConfigException {
        throw new ConfigException(List.of(source + ": not implemented yet"));
    }
}
