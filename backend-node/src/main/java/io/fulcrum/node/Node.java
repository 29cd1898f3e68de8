package io.fulcrum.node;

import static java.util.Objects.requireNonNull;

import io.fulcrum.config.Durations;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.node.http.ApiRouter;
import io.fulcrum.node.http.EventFeed;
import io.fulcrum.node.http.JsonCodec;
import io.fulcrum.node.http.NodeAdminHandler;
import io.fulcrum.node.http.NodeMetrics;
import io.fulcrum.node.http.NodeServer;
import io.fulcrum.node.http.NodeServerInitializer;
import io.fulcrum.node.http.PostRoutes;
import io.fulcrum.node.http.StaticAssets;
import io.fulcrum.node.post.PostService;
import io.fulcrum.node.store.PostStore;
import io.fulcrum.node.store.PostStores;
import io.fulcrum.node.store.StoreTopology;
import io.fulcrum.node.store.StoreWorkers;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running post server: the wiring point that opens the store, creates the store workers, the
 * service, the metrics and the HTTP server, and closes them in reverse order. Every executor and
 * loop group of the node is created here (or by the server it creates) and shut down by {@link #close()}.
 *
 * <p>{@link #start} and {@link #close()} block and are called by the owning thread (main or a test).
 */
public final class Node implements AutoCloseable {
    /** How long {@link #close()} waits for requests in progress. */
    public static final Duration DRAIN = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(Node.class);

    private final NodeConfig config;
    private final StoreTopology store;
    private final StoreWorkers workers;
    private final NodeServer server;
    private final int port;
    private final NodeServer admin;
    private final int adminPort;
    private final NodeMetrics metrics;
    private final EventFeed feed;

    private Node(NodeConfig config, StoreTopology store, StoreWorkers workers, NodeServer server, int port,
            NodeServer admin, int adminPort, NodeMetrics metrics, EventFeed feed) {
        this.config = config;
        this.store = store;
        this.workers = workers;
        this.server = server;
        this.port = port;
        this.admin = admin;
        this.adminPort = adminPort;
        this.metrics = metrics;
        this.feed = feed;
    }

    /** Opens the configured store and starts serving. */
    public static Node start(NodeConfig config) throws InterruptedException {
        return startOver(config, registry -> PostStores.openTopology(config.store(), config.id(), registry,
                Clock.systemUTC()));
    }

    /**
     * Starts serving over the store made by {@code openStore}, which receives the node's meter registry
     * (tests use this to wrap the store with faults).
     */
    public static Node start(NodeConfig config, Function<MeterRegistry, PostStore> openStore)
            throws InterruptedException {
        requireNonNull(openStore, "openStore");
        return startOver(config, registry -> StoreTopology.single(openStore.apply(registry)));
    }

    private static Node startOver(NodeConfig config, Function<MeterRegistry, StoreTopology> openStore)
            throws InterruptedException {
        requireNonNull(config, "config");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        StoreTopology store = openStore.apply(registry);
        StoreConfig sc = config.store();
        StoreWorkers workers;
        if (sc.kind() == StoreConfig.Kind.SQLITE) {
            workers = StoreWorkers.split(config.id(), sc.poolSize(), sc.queueCapacity());
        } else if (sc.replica() != null) {
            workers = StoreWorkers.separate(config.id(), sc.poolSize(), sc.poolSize(), sc.queueCapacity());
        } else {
            workers = StoreWorkers.shared(config.id(), sc.poolSize(), sc.queueCapacity());
        }
        JsonCodec json = new JsonCodec();
        StaticAssets assets = StaticAssets.load();
        NodeMetrics metrics = new NodeMetrics(registry, workers);
        PostRoutes routes = new PostRoutes(new PostService(store, workers, config.limits()), json, assets, metrics,
                workers, config.id(), config.region());
        // One watcher of the store per node, whatever the number of open pages.
        EventFeed feed = new EventFeed(store, config.events(), json, config.id(),
                Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("node-feed", true)));
        metrics.bindEventStreams(feed);
        NodeServerInitializer initializer = new NodeServerInitializer(new ApiRouter(assets.rootNames()), routes, json,
                metrics, config.limits().maxBodyBytes(), feed);
        int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        NodeServer server = new NodeServer(config.listen().host(), config.listen().port(), ioThreads, initializer);
        NodeServer admin = config.admin() == null ? null : new NodeServer(config.admin().host(),
                config.admin().port(), 1, NodeAdminHandler.initializer(metrics, json), "node-admin");
        try {
            int adminPort = admin == null ? -1 : admin.start();
            feed.start();
            int port = server.start();
            return new Node(config, store, workers, server, port, admin, adminPort, metrics, feed);
        } catch (InterruptedException | RuntimeException e) {
            closeInOrder(feed, server, admin, workers, store);
            throw e;
        }
    }

    /** The port the node listens on. */
    public int port() {
        return port;
    }

    /** The port of the admin server ({@code /metrics}), or -1 when the node has none. */
    public int adminPort() {
        return adminPort;
    }

    /** The configuration the node runs with. */
    public NodeConfig config() {
        return config;
    }

    /**
     * Stops gracefully: stops accepting connections, waits up to {@link #DRAIN} for the requests in
     * progress to be answered (a write the store commits is not lost to a closed connection), then
     * closes the connections, lets any store call still running finish, and closes the store's pools.
     */
    @Override
    public void close() {
        server.stopAccepting();
        long deadline = System.nanoTime() + DRAIN.toNanos();
        boolean interrupted = false;
        // The wiring thread polls a counter: nothing to wake it exists, and 10 ms is far below a request.
        while (metrics.inFlight() > 0 && System.nanoTime() < deadline && !interrupted) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (metrics.inFlight() > 0) {
            log.warn("Stopping with {} requests still in progress after {}", metrics.inFlight(), Durations.format(DRAIN));
        }
        closeInOrder(feed, server, admin, workers, store);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Closes what a node runs, the feed before the servers (event streams never finish by
     * themselves: they end with the connections) and the store last, once no worker uses it.
     */
    private static void closeInOrder(EventFeed feed, NodeServer server, NodeServer admin, StoreWorkers workers,
            StoreTopology store) {
        feed.close();
        server.close();
        if (admin != null) {
            admin.close();
        }
        workers.close();
        store.close();
    }
}
