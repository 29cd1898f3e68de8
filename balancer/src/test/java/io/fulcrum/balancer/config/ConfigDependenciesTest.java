package io.fulcrum.balancer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The config package depends on no other package of the balancer: every other package reads the
 * config, so a name of theirs here (imported or written out in full) would be a cycle.
 */
class ConfigDependenciesTest {
    private static final Path SOURCES = Path.of("src/main/java/io/fulcrum/balancer/config");
    private static final Pattern BALANCER_NAME = Pattern.compile("io\\.fulcrum\\.balancer\\.([a-z0-9_]+)\\b");

    @Test
    void theConfigPackageNamesNoOtherBalancerPackage() throws IOException {
        List<String> uses = new ArrayList<>();
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = BALANCER_NAME.matcher(lines.get(i));
                    while (m.find()) {
                        if (!m.group(1).equals("config")) {
                            uses.add(file.getFileName() + ":" + (i + 1) + ": " + m.group());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), uses);
    }
}
