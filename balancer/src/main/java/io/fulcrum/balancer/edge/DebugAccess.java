package io.fulcrum.balancer.edge;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.Cidr;
import io.fulcrum.balancer.config.DecisionHeaderConfig;
import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.util.List;

/**
 * Who may see the full decision trace: a request carrying the configured header from a trusted
 * client network. Immutable and thread-safe.
 */
public final class DebugAccess {
    private final AsciiString header;
    private final List<Cidr> trusted;

    public DebugAccess(DecisionHeaderConfig config) {
        requireNonNull(config, "config");
        this.header = AsciiString.cached(config.request());
        this.trusted = config.trusted();
    }

    /** The request header that asks for the decision. */
    public AsciiString header() {
        return header;
    }

    /** Whether a request that {@code asked} from {@code client} gets the full trace. */
    public boolean allows(boolean asked, InetAddress client) {
        if (!asked || client == null) {
            return false;
        }
        for (Cidr network : trusted) {
            if (network.contains(client)) {
                return true;
            }
        }
        return false;
    }
}
