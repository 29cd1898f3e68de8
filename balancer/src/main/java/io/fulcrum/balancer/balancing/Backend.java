package io.fulcrum.balancer.balancing;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.BackendProtocol;
import java.net.InetSocketAddress;

/**
 * A backend as the routing layer sees it: its configuration plus its live {@link BackendState}.
 * The configuration part is immutable; a reload that keeps the id builds a new {@code Backend}
 * around the same state object, so counters survive. Thread-safe.
 */
public final class Backend {
    private final BackendConfig config;
    private final BackendState state;
    private final InetSocketAddress address;
    private final String poolKey;

    /**
     * Resolves the host name now, on the calling (control) thread, so that connecting never looks
     * up a name on an event loop. A name that does not resolve gives an unresolved address, which
     * fails to connect until a reload resolves it again.
     */
    public Backend(BackendConfig config, BackendState state) {
        this.config = requireNonNull(config, "config");
        this.state = requireNonNull(state, "state");
        this.address = new InetSocketAddress(config.host(), config.port());
        this.poolKey = (config.protocol() == BackendProtocol.HTTP1 ? "" : config.protocol().word() + ":")
                + (config.tls() ? "tls:" : "") + poolKey(address);
    }

    /**
     * The key of this backend's pooled connections: its resolved address, so a backend whose URL
     * (or resolved address) changes never reuses connections to the old one, while backends that
     * share an address share connections. TLS backends' keys carry a {@code tls:} prefix, and
     * backends spoken to otherwise than over HTTP/1.1 their protocol's ({@code h2c:}).
     */
    public static String poolKey(InetSocketAddress address) {
        String host = address.isUnresolved() ? address.getHostString() : address.getAddress().getHostAddress();
        return host + ":" + address.getPort();
    }

    /** See {@link #poolKey(InetSocketAddress)}; computed once. */
    public String poolKey() {
        return poolKey;
    }

    /** The backend's socket address, resolved when this object was built (start-up or reload). */
    public InetSocketAddress address() {
        return address;
    }

    public String id() {
        return config.id();
    }

    public String host() {
        return config.host();
    }

    public int port() {
        return config.port();
    }

    public String region() {
        return config.region();
    }

    public int weight() {
        return config.weight();
    }

    public int maxInFlight() {
        return config.maxInFlight();
    }

    public BackendConfig config() {
        return config;
    }

    /** Live counters and flags, shared by every snapshot that holds this backend's id. */
    public BackendState state() {
        return state;
    }

    /**
     * Takes one in-flight slot if the backend is below its max-in-flight. Every successful call
     * must be matched by one {@link BackendState#onRequestEnd} call.
     */
    public boolean tryAcquire() {
        return state.tryAcquire(config.maxInFlight());
    }

    @Override
    public String toString() {
        return config.id() + "(" + config.url() + ")";
    }
}
