package io.fulcrum.balancer.admin;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.edge.RedisBuckets;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * What the admin API reads and acts on. Immutable; every part is thread-safe itself.
 *
 * @param registry the backend pool ({@code /backends}, {@code /ready}, drain and enable)
 * @param proxy the traffic side (draining flag for {@code /ready})
 * @param meters the registry {@code /metrics} scrapes
 * @param reloader config reloading, or {@code null} when the balancer runs without a config file
 * @param control the control thread: snapshot swaps (drain, enable, reload) run there, never on
 *     the admin event loop
 * @param config the config in force (the admin token, the config hash); read per request
 * @param pools every pool's registry by pool name, in file order; read per request
 * @param transport the socket transport the balancer runs on ({@code io_uring}, {@code epoll}, {@code nio})
 * @param rateLimitStore the fleet's rate-limit buckets ({@code /config/status}, the status page), or
 *     {@code null} when there is no {@code redis}
 */
public record AdminServices(BackendRegistry registry, ProxyContext proxy, PrometheusMeterRegistry meters,
        ConfigReloads reloader, Executor control, Supplier<BalancerConfig> config,
        Supplier<Map<String, BackendRegistry>> pools, String transport, RedisBuckets rateLimitStore) {
    public AdminServices {
        requireNonNull(pools, "pools");
        requireNonNull(config, "config");
        requireNonNull(registry, "registry");
        requireNonNull(proxy, "proxy");
        requireNonNull(meters, "meters");
        requireNonNull(control, "control");
        requireNonNull(transport, "transport");
    }
}
