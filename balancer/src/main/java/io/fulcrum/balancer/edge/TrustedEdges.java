package io.fulcrum.balancer.edge;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.Cidr;
import io.fulcrum.balancer.config.TrustedEdgesConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.List;

/**
 * Who the client is when trusted proxies stand in front ({@code trusted-edges}). Immutable and
 * thread-safe.
 *
 * <p>The rule for {@code X-Forwarded-For} is nginx's {@code real_ip_recursive on}: start from the
 * address the connection came from (the PROXY header's source when a trusted peer sent one, else
 * the TCP peer); while that address is trusted, replace it with the next address of
 * {@code X-Forwarded-For} from the right. The first untrusted address found is the client; when
 * every address is trusted, the leftmost one is. An entry that is not an IP address stops the
 * walk, and the last address reached stays the client (a trusted proxy, never the garbage). All
 * lines of the field are one list (RFC 9110 section 5.3).
 */
public final class TrustedEdges {
    private final TrustedEdgesConfig config;
    private final List<Cidr> networks;

    public TrustedEdges(TrustedEdgesConfig config) {
        this.config = requireNonNull(config, "config");
        this.networks = config.networks();
    }

    TrustedEdgesConfig config() {
        return config;
    }

    /** Whether {@code address} is inside one of the trusted networks. */
    public boolean trusts(InetAddress address) {
        if (address == null) {
            return false;
        }
        for (int i = 0; i < networks.size(); i++) {
            if (networks.get(i).contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a PROXY header of version {@code version} from a trusted peer is taken. */
    boolean acceptsProxyProtocol(int version) {
        return config.proxyProtocol().accepts(version);
    }

    /** Whether PROXY headers are looked for at all (and refused from untrusted peers). */
    public boolean proxyProtocol() {
        return config.proxyProtocol() != TrustedEdgesConfig.ProxyProtocol.OFF;
    }

    /**
     * The client's address for one request.
     *
     * @param connection the address the connection came from (the PROXY source, else the peer)
     * @param connectionText the same as text, returned as is when the headers change nothing
     * @return the client's address as text
     */
    public String client(InetAddress connection, String connectionText, HttpHeaders headers) {
        if (!config.forwardedFor() || !trusts(connection)) {
            return connectionText;
        }
        List<String> lines = headers.getAll(HeaderRules.X_FORWARDED_FOR);
        String client = connectionText;
        for (int line = lines.size() - 1; line >= 0; line--) {
            String value = lines.get(line);
            int end = value.length();
            while (end > 0) {
                int comma = value.lastIndexOf(',', end - 1);
                String entry = value.substring(comma + 1, end).trim();
                end = comma < 0 ? 0 : comma;
                if (entry.isEmpty()) {
                    continue;
                }
                InetAddress address = parse(entry);
                if (address == null) {
                    return client;
                }
                client = address.getHostAddress();
                if (!trusts(address)) {
                    return client;
                }
            }
        }
        return client;
    }

    /** An IP literal, optionally in brackets ({@code [::1]}), else {@code null}; no name lookups. */
    public static InetAddress parse(String text) {
        String s = text;
        if (s.length() > 2 && s.charAt(0) == '[' && s.charAt(s.length() - 1) == ']') {
            s = s.substring(1, s.length() - 1);
        }
        return NetUtil.createInetAddressFromIpAddressString(s);
    }
}
