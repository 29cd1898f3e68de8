package io.fulcrum.testing;

import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.NodeLimitsConfig;
import io.fulcrum.node.config.NodeListenConfig;
import io.fulcrum.node.config.StoreConfig;
import java.nio.file.Path;

/** Node configurations for tests: loopback, port 0, small limits so that the edges are cheap to reach. */
public final class TestNodes {
    /** Body limit of test nodes, in bytes. */
    public static final int MAX_BODY_BYTES = 2048;
    /** Text limit of test nodes, in characters. */
    public static final int MAX_TEXT_CHARS = 100;

    private TestNodes() {
    }

    /** A node named {@code id} in us-east over the SQLite file {@code file}, with an admin port for /metrics. */
    public static NodeConfig sqlite(String id, Path file) {
        return new NodeConfig(id, "us-east", new NodeListenConfig("127.0.0.1", 0), StoreConfig.sqlite(file),
                new NodeLimitsConfig(MAX_BODY_BYTES, MAX_TEXT_CHARS, 50, 10), new NodeListenConfig("127.0.0.1", 0));
    }
}
