package io.fulcrum.balancer.config;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

/**
 * YAML text loaded as the balancer loads a file named {@code test.yaml}, for the config tests: the
 * config it gives, or the problems it is rejected with (each naming its field path and line).
 *
 * <p>Stateless; safe from any thread.
 */
final class ConfigTexts {
    /** A minimal valid first line, one backend: a case written below it starts on line 2. */
    static final String ONE_BACKEND = "backends: [{id: a, url: \"http://127.0.0.1:9001\"}]\n";

    private ConfigTexts() {
    }

    static BalancerConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "test.yaml");
    }

    /** The problems {@code yaml} is rejected with; fails the test when it is accepted. */
    static List<String> problems(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).problems();
    }

    /** The problems {@code section} is rejected with, written below {@link #ONE_BACKEND} (from line 2). */
    static List<String> sectionProblems(String section) {
        return problems(ONE_BACKEND + section);
    }
}
