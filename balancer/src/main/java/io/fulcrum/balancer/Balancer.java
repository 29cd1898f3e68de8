package io.fulcrum.balancer;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.proxy.AccessLog;
import io.fulcrum.balancer.proxy.ProxyContext;
import io.fulcrum.balancer.proxy.ProxyServer;
import io.fulcrum.balancer.proxy.ProxySettings;
import io.fulcrum.balancer.proxy.RetryBudget;
import io.fulcrum.balancer.proxy.Transport;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.OutcomeListener;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One running balancer: its event loops, backend registry and traffic server, built from one
 * config. The wiring lives here so that the command line and the tests start exactly the same
 * thing. {@link #start()} and {@link #stop()} are for the control thread.
 */
public final class Balancer implements AutoCloseable {
    private final BalancerConfig config;
    private final int workerThreads;
    private final Transport transport = Transport.detect();
    private EventLoopGroup acceptGroup;
    private EventLoopGroup workerGroup;
    private BackendRegistry registry;
    private ProxyContext proxy;
    private ProxyServer server;

    /**
     * @param workerThreads event loops for client and backend connections; 0 means one per core
     */
    public Balancer(BalancerConfig config, int workerThreads) {
        this.config = requireNonNull(config, "config");
        this.workerThreads = workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
    }

    public Balancer start() throws InterruptedException {
        acceptGroup = transport.newGroup("fulcrum-accept", 1);
        workerGroup = transport.newGroup("fulcrum-io", workerThreads);
        registry = new BackendRegistry(config.region(), config.routing(), config.backends());
        proxy = new ProxyContext(registry, ProxySettings.from(config), config.limits().maxConnections(),
                new RetryBudget(config.retry().budgetPercent()), OutcomeListener.NOOP);
        proxy.setAccessLog(AccessLog.create(config.accessLog()));
        server = new ProxyServer(config, proxy, transport, acceptGroup, workerGroup);
        try {
            server.start();
        } catch (RuntimeException | InterruptedException e) {
            shutdownGroups();
            throw e;
        }
        return this;
    }

    /** The traffic port actually bound. */
    public int port() {
        return server.port();
    }

    public BackendRegistry registry() {
        return registry;
    }

    public ProxyContext proxy() {
        return proxy;
    }

    public BalancerConfig config() {
        return config;
    }

    /** Graceful stop with the configured drain timeout. */
    public void stop() throws InterruptedException {
        stop(config.timeouts().drain());
    }

    public void stop(Duration drain) throws InterruptedException {
        if (server != null) {
            server.stop(drain);
        }
        shutdownGroups();
        if (proxy != null) {
            proxy.accessLog().close();
        }
    }

    private void shutdownGroups() {
        if (acceptGroup != null) {
            acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop(Duration.ZERO);
    }
}
