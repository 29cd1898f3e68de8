package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import io.netty.util.NetUtil;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads a {@code discovery} section (top level, for the default pool) into a {@link DiscoveryConfig},
 * reporting problems through the {@link ConfigLoader}'s mapper:
 * <pre>
 *   discovery: { dns: { name: api.internal, type: A, port: 8080, server: "10.0.0.2:53" } }
 *   discovery: { dns: { name: _http._tcp.api.internal, type: SRV } }
 *   discovery: { file: /etc/fulcrum/backends.yaml }
 * </pre>
 * The section replaces the static {@code backends} list of the same level. Stateless.
 */
final class DiscoverySection {

    /** Labels of letters, digits, '-' and '_' (SRV names such as _http._tcp.api), 1-63 characters each. */
    private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*");

    private DiscoverySection() {
    }

    /** Whether {@code parent} has a non-null {@code key} section and no {@code backends} list to read. */
    static boolean replacesBackends(Section parent, String key) {
        Entry d = parent.get(key);
        Entry b = parent.get("backends");
        return d != null && !Mapper.isNull(d.value()) && (b == null || Mapper.isNull(b.value()));
    }

    /** The section {@code key} of {@code parent}, or {@code null} when absent, null or wrong. */
    static DiscoveryConfig read(Mapper m, Section parent, String key, String defaultRegion) {
        Entry e = parent.get(key);
        if (e == null || Mapper.isNull(e.value())) {
            return null;
        }
        Entry backends = parent.get("backends");
        if (backends != null && !Mapper.isNull(backends.value())) {
            m.problem(e.path(), e.key(), "set either " + backends.path() + " or " + e.path() + ", not both");
            return null;
        }
        Section s = m.subsection(parent, key, BalancerSchema.DISCOVERY);
        if (m.either(s, "dns", "file", "{ dns: { name: api.internal, port: 8080 } }"
                + " or { file: /etc/fulcrum/backends.yaml }") == null) {
            return null;
        }
        Entry file = s.get("file");
        Entry dns = s.get("dns");
        if (file != null) {
            Path p = file(m, file);
            return p == null ? null : new DiscoveryConfig(null, p);
        }
        DiscoveryConfig.Dns d = dns(m, m.subsection(s, "dns", BalancerSchema.DISCOVERY_DNS), dns, defaultRegion);
        return d == null ? null : new DiscoveryConfig(d, null);
    }

    private static Path file(Mapper m, Entry e) {
        String text = m.scalarText(e, "a file path");
        if (text == null) {
            return null;
        }
        try {
            Path p = Path.of(text);
            if (!Files.isReadable(p) || Files.isDirectory(p)) {
                m.problem(e.path(), e.value(), "cannot read \"" + text + "\" (expected: a YAML or JSON file with `backends`)");
                return null;
            }
            return p.toAbsolutePath();
        } catch (InvalidPathException ex) {
            m.problem(e.path(), e.value(), "not a valid file path: \"" + text + "\"");
            return null;
        }
    }

    private static DiscoveryConfig.Dns dns(Mapper m, Section s, Entry parent, String defaultRegion) {
        int before = m.problems.size();
        String name = null;
        Entry n = s.get("name");
        if (n == null) {
            m.problem(s.child("name"), parent.value(), "required (expected: a DNS name such as api.internal)");
        } else {
            name = m.scalarText(n, "a DNS name");
            String bare = name != null && name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
            if (bare != null && (!DNS_NAME.matcher(bare).matches() || bare.length() > 253
                    || NetUtil.isValidIpV4Address(bare))) {
                m.problem(n.path(), n.value(), "not a valid DNS name: \"" + name + "\"");
            }
        }
        DiscoveryConfig.Type type = DiscoveryConfig.Type.A;
        Entry t = s.get("type");
        if (t != null) {
            String text = m.scalarText(t, "A, AAAA or SRV");
            if (text != null) {
                String upper = text.toUpperCase(java.util.Locale.ROOT);
                List<String> names = Arrays.stream(DiscoveryConfig.Type.values()).map(Enum::name).toList();
                if (names.contains(upper)) {
                    type = DiscoveryConfig.Type.valueOf(upper);
                } else {
                    List<String> lower = names.stream().map(v -> v.toLowerCase(java.util.Locale.ROOT)).toList();
                    String hint = YamlMapper.hint(text.toLowerCase(java.util.Locale.ROOT), lower);
                    m.problem(t.path(), t.value(), "unknown record type \"" + text + "\""
                            + hint.toUpperCase(java.util.Locale.ROOT).replace(", DID YOU MEAN", ", did you mean")
                            + " (expected: A, AAAA or SRV)");
                    type = null;
                }
            }
        }
        int port = 0;
        Entry p = s.get("port");
        if (type == null) {
            port = p == null ? 0 : m.integer(s, "port", 0, 0, 65535);
        } else if (type == DiscoveryConfig.Type.SRV) {
            if (p != null) {
                m.problem(p.path(), p.value(), "SRV records carry their ports (expected: no port with type SRV)");
            }
        } else if (p == null) {
            m.problem(s.child("port"), parent.value(), "required with type " + type + " (expected: 1-65535)");
        } else {
            port = m.integer(s, "port", 0, 1, 65535);
        }
        String server = server(m, s.get("server"));
        SectionValues v = m.read(s, BalancerSchema.DISCOVERY_DNS);
        Duration minTtl = v.duration("min-ttl");
        Duration maxTtl = v.duration("max-ttl");
        m.notShorter(s, "max-ttl", maxTtl, "min-ttl", minTtl);
        String region = m.name(s, "region", defaultRegion);
        int weight = v.integer("weight");
        if (type == DiscoveryConfig.Type.SRV && s.get("weight") != null) {
            Entry w = s.get("weight");
            m.problem(w.path(), w.value(), "SRV records carry their weights (expected: no weight with type SRV)");
        }
        int maxInFlight = v.integer("max-in-flight");
        if (m.problems.size() != before || name == null || type == null) {
            return null;
        }
        return new DiscoveryConfig.Dns(name, type, port, server, minTtl, maxTtl, region, weight, maxInFlight);
    }

    /** {@code host:port} or {@code host} (port 53), host a literal IPv4 or a bracketed IPv6 address. */
    private static String server(Mapper m, Entry e) {
        if (e == null || Mapper.isNull(e.value())) {
            return null;
        }
        String text = m.scalarText(e, "a DNS server address such as 10.0.0.2:53");
        if (text == null) {
            return null;
        }
        String host = text;
        String port = "53";
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            host = close < 0 ? "" : text.substring(1, close);
            if (close >= 0 && close + 1 < text.length()) {
                port = text.charAt(close + 1) == ':' ? text.substring(close + 2) : "x";
            }
        } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
            host = text.substring(0, text.indexOf(':'));
            port = text.substring(text.indexOf(':') + 1);
        }
        boolean validHost = NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
        int portNumber = port.matches("[0-9]{1,5}") ? Integer.parseInt(port) : -1;
        if (!validHost || portNumber < 1 || portNumber > 65535) {
            m.problem(e.path(), e.value(), "not an address and port: \"" + text
                    + "\" (expected: IPv4:port or [IPv6]:port, port 53 when omitted)");
            return null;
        }
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + portNumber;
    }
}
