package io.fulcrum.testing;

import io.fulcrum.node.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh SQLite node for each test ({@link TestNodes#sqlite}, named {@code n1}) over a file in a
 * temporary directory of its own, with a {@link TestHttp} client on its API port; stopped and its
 * directory deleted after the test (Armeria's {@code ServerExtension} idea). Register it with
 * {@code @RegisterExtension final FreshNode fresh = new FreshNode();}.
 *
 * <p>Not thread-safe: one test at a time, on JUnit's thread.
 */
public final class FreshNode implements BeforeEachCallback, AfterEachCallback {
    private Path dir;
    private Node node;
    private final TestHttp http = new TestHttp(() -> node.port());

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("fulcrum-node");
        node = Node.start(TestNodes.sqlite("n1", dir.resolve("posts.db")));
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        try {
            node.close();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(FreshNode::delete);
            }
        }
    }

    private static void delete(Path p) {
        try {
            Files.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The running node. */
    public Node node() {
        return node;
    }

    /** A client of the API port of the node that runs at the time of each request (usable from field initializers). */
    public TestHttp http() {
        return http;
    }
}
