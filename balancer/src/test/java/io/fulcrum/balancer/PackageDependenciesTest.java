package io.fulcrum.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.testing.PackageGraph;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Data flows one way between the balancer's packages: no package names, by import or written out
 * in full, a package that names it back, directly or through others. The config package names no
 * other package of the balancer at all, since every other one reads the config.
 */
class PackageDependenciesTest {
    private static final PackageGraph MAIN = PackageGraph.read(Path.of("src/main/java"));

    @Test
    void noPackageCycle() {
        assertEquals(List.of(), MAIN.cycles());
    }

    @Test
    void theConfigPackageNamesNoOtherBalancerPackage() {
        Map<String, String> named = MAIN.namedBy("io.fulcrum.balancer.config").entrySet().stream()
                .filter(e -> e.getKey().startsWith("io.fulcrum.balancer"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertEquals(Map.of(), named);
    }
}
