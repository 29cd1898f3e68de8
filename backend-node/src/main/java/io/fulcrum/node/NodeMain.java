package io.fulcrum.node;

import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.NodeConfigException;
import io.fulcrum.node.config.NodeConfigLoader;
import io.fulcrum.node.store.StoreUnavailableException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The post server's command line: {@code java -jar backend-node.jar --config config/node-us-1.yaml}.
 * Exits 2 on a bad configuration (one line per problem on stderr), 1 when the store cannot be
 * opened, and 0 after a clean shutdown on SIGINT/SIGTERM.
 *
 * <p>Runs on the main thread, which waits for SIGTERM or SIGINT ({@link StopSignals}), then stops
 * the node gracefully and exits 0.
 */
@Command(name = "fulcrum-node", mixinStandardHelpOptions = true, versionProvider = NodeMain.Version.class,
        description = "Runs a Fulcrum post server: the REST API for posts, the timeline page and /health; "
                + "/metrics on the admin port.")
public final class NodeMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(NodeMain.class);

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "The node's YAML configuration file.")
    private Path config;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT",
            description = "Listen on this port instead of listen.port from the file (0: any free port).")
    private Integer port;

    /** Parses the command line and runs the node until it is stopped. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new NodeMain()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        NodeConfig nodeConfig;
        try {
            nodeConfig = new NodeConfigLoader(System.getenv()).load(config);
            if (port != null) {
                nodeConfig = nodeConfig.withPort(port);
            }
        } catch (NodeConfigException e) {
            for (String problem : e.problems()) {
                System.err.println(config + ": " + problem);
            }
            return 2;
        } catch (IllegalArgumentException e) {
            System.err.println("--port: " + e.getMessage());
            return 2;
        }
        Node node;
        try {
            node = Node.start(nodeConfig);
        } catch (StoreUnavailableException e) {
            log.error("Cannot open the store: {}", e.getMessage());
            return 1;
        }
        String id = nodeConfig.id();
        AtomicBoolean closed = new AtomicBoolean();
        Runnable stop = () -> {
            if (closed.compareAndSet(false, true)) {
                log.info("Stopping node {}", id);
                node.close();
            }
        };
        // SIGTERM and SIGINT wake this thread, which stops the node and returns 0. Any other end of
        // the JVM (SIGHUP, a signal not taken over) still stops the node, in the hook.
        CountDownLatch stopRequested = new CountDownLatch(1);
        StopSignals.install(stopRequested::countDown);
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "node-shutdown"));
        log.info("Node {} ({}) listening on http://{}:{} with {} store", nodeConfig.id(), nodeConfig.region(),
                nodeConfig.listen().host(), node.port(), nodeConfig.store().kind().name().toLowerCase(java.util.Locale.ROOT));
        if (nodeConfig.admin() == null) {
            log.info("No admin port configured (admin.port): /metrics is not served");
        } else {
            log.info("Metrics on http://{}:{}/metrics", nodeConfig.admin().host(), node.adminPort());
        }
        stopRequested.await();
        stop.run();
        return 0;
    }

    /** Reports the version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = NodeMain.class.getPackage().getImplementationVersion();
            return new String[] {"fulcrum-node " + (v == null ? "dev" : v)};
        }
    }
}
