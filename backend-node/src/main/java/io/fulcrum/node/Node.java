package io.fulcrum.node;

import static java.util.Objects.requireNonNull;

import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.node.http.JsonCodec;
import io.fulcrum.node.http.NodeMetrics;
import io.fulcrum.node.http.NodeServer;
import io.fulcrum.node.http.NodeServerInitializer;
import io.fulcrum.node.http.PostRoutes;
import io.fulcrum.node.http.Router;
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
import java.time.Clock;
import java.util.function.Function;

/**
 * One running post server: the wiring point that opens the store, creates the store workers, the
 * service, the metrics and the HTTP server, and closes them in reverse order. Every executor and
 * loop group of the node is created here (or by the server it creates) and shut down by {@link #close()}.
 *
 * <p>{@link #start} and {@link #close()} block and are called by the owning thread (main or a test).
 */
public final class Node implements AutoCloseable {
    private final NodeConfig config;
    private final StoreTopology store;
    private final StoreWorkers workers;
    private final NodeServer server;
    private final int port;

    private Node(NodeConfig config, StoreTopology store, StoreWorkers workers, NodeServer server, int port) {
        this.config = config;
        this.store = store;
        this.workers = workers;
        this.server = server;
        this.port = port;
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
        NodeServerInitializer initializer = new NodeServerInitializer(new Router(assets.rootNames()), routes, json,
                metrics, config.limits().maxBodyBytes());
        int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        NodeServer server = new NodeServer(config.listen().host(), config.listen().port(), ioThreads, initializer);
        try {
            int port = server.start();
            return new Node(config, store, workers, server, port);
        } catch (InterruptedException | RuntimeException e) {
            server.close();
            workers.close();
            store.close();
            throw e;
        }
    }

    /** The port the node listens on. */
    public int port() {
        return port;
    }

    /** The configuration the node runs with. */
    public NodeConfig config() {
        return config;
    }

    /** Stops accepting, lets running store calls finish, and closes the store's pools. */
    @Override
    public void close() {
        server.close();
        workers.close();
        store.close();
    }
}
