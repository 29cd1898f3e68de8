package io.fulcrum.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.testing.PackageGraph;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Data flows one way between the post server's packages (the node, its HTTP API, the post
 * service, the store, its config): no package names, by import or written out in full, a package
 * that names it back, directly or through others.
 */
class PackageDependenciesTest {
    @Test
    void noPackageCycle() {
        assertEquals(List.of(), PackageGraph.read(Path.of("src/main/java")).cycles());
    }
}
