package io.fulcrum.balancer.access;

import io.fulcrum.balancer.config.Cidr;
import io.fulcrum.balancer.config.ClientNetworksConfig;
import java.net.InetAddress;
import java.util.List;

/**
 * The allow and deny lists of client networks ({@code client-networks}), the top level's or a
 * route's. Deny is asked first: a client in a denied network is refused even when an allowed one
 * holds it too, as with nginx's {@code deny} before a wider {@code allow}. Immutable and
 * thread-safe.
 */
final class ClientNetworks {
    /** The access log's error for a client in a denied network. */
    static final String DENIED = "client address denied (client-networks.deny)";
    /** The access log's error for a client in none of the allowed networks. */
    static final String NOT_ALLOWED = "client address not allowed (client-networks.allow)";

    private final Cidr[] allow;
    private final Cidr[] deny;

    ClientNetworks(ClientNetworksConfig config) {
        this.allow = config.allow().toArray(Cidr[]::new);
        this.deny = config.deny().toArray(Cidr[]::new);
    }

    /**
     * Why {@code client} is refused, or {@code null} when it may pass. A client whose address is
     * unknown is refused by an allow list and passes a deny list.
     */
    String refuses(InetAddress client) {
        if (client != null && in(deny, client)) {
            return DENIED;
        }
        if (allow.length > 0 && (client == null || !in(allow, client))) {
            return NOT_ALLOWED;
        }
        return null;
    }

    private static boolean in(Cidr[] networks, InetAddress address) {
        for (Cidr n : networks) {
            if (n.contains(address)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "allow " + List.of(allow) + ", deny " + List.of(deny);
    }
}
