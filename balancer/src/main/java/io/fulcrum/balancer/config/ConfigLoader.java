package io.fulcrum.balancer.config;

import io.fulcrum.config.ConfigProblems;
import io.fulcrum.config.Durations;
import io.fulcrum.config.FieldTable;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads balancer YAML into a validated {@link BalancerConfig}. Stateless and thread-safe: each call
 * works on its own parser and problem list.
 *
 * <p>The file is composed into a SnakeYAML node tree (never constructed into arbitrary Java objects)
 * and mapped explicitly into the config records, so every problem can name its YAML path and line.
 * All problems are collected and reported together, in file order, one line each, for example
 * {@code backends[2].url: not an http URL: "ftp://x" (expected: http://host[:port] or https://host[:port]) (line 14)}.
 * Unknown and duplicate keys, YAML tags, wrong types and out-of-range values are all errors: a
 * config either applies completely or not at all.
 *
 * <p>The reading is the shared {@link YamlMapper} (also the post server's). Every section's keys,
 * and the type, range and default of its plain values, are declared in {@link BalancerSchema}. Each
 * key of the file is read by one section type, {@code <Key>Section} (for example
 * {@link LimitsSection}; the sections a pool inherits are {@link InheritedSection}s), whose
 * {@code read(mapper, parent, ...)} checks the keys against the
 * key's table and reads what the table cannot say (URLs, networks, header edits, certificates,
 * rules between keys); the {@link Mapper} here reads the file's plain top-level values, orders the
 * sections (a pool inherits the top level's; routes need the pools' names) and holds what a check
 * needs from the whole file.
 */
public final class ConfigLoader {
    /** RFC 9110 section 5.6.2 {@code token}: the syntax of a header field name. */
    static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    static final String DEFAULT_REGION = "default";
    static final String DEFAULT_ACCESS_LOG = "stdout";

    private ConfigLoader() {
    }

    /**
     * Loads and validates the file; every problem found is reported at once. A {@code tls} section
     * is a problem: its certificates are only taken with {@link #load(Path, CertificateCheck)}.
     */
    public static BalancerConfig load(Path file) throws ConfigException {
        return load(file, null);
    }

    /**
     * Loads and validates the file, {@code certificates} checking each certificate of the
     * {@code tls} section; every problem found is reported at once.
     */
    public static BalancerConfig load(Path file, CertificateCheck certificates) throws ConfigException {
        return parse(read(file), file.toString(), certificates);
    }

    /** The text of {@code file}; a file that cannot be read is one problem naming it. */
    static String read(Path file) throws ConfigException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read (" + e.getMessage() + ")"));
        }
    }

    /**
     * Parses and validates YAML text; {@code source} names it in messages about the file as a whole.
     * A {@code tls} section is a problem: see {@link #parse(String, String, CertificateCheck)}.
     */
    public static BalancerConfig parse(String yaml, String source) throws ConfigException {
        return parse(yaml, source, null);
    }

    /**
     * Parses and validates YAML text, {@code certificates} checking each certificate of the
     * {@code tls} section (null: a {@code tls} section is a problem); {@code source} names the text
     * in messages about the file as a whole.
     */
    public static BalancerConfig parse(String yaml, String source, CertificateCheck certificates)
            throws ConfigException {
        YamlMapper.Document doc = compose(yaml, source);
        if (doc.root() == null) {
            throw new ConfigException(List.of(source + ": empty (expected: a mapping with at least `backends`)"));
        }
        Node root = doc.root();
        Mapper mapper = new Mapper(doc.tagged(), certificates);
        BalancerConfig config = mapper.balancer(root);
        if (mapper.hasProblems() || config == null) {
            throw new ConfigException(mapper.sortedProblems());
        }
        return config;
    }

    /** Composes YAML text into a node tree (never Java objects); syntax errors name {@code source}. */
    static YamlMapper.Document compose(String yaml, String source) throws ConfigException {
        try {
            return YamlMapper.compose(yaml, source);
        } catch (ConfigProblems e) {
            throw new ConfigException(e.problems());
        }
    }

    /** Maps one composed document; single use, confined to the calling thread. */
    static final class Mapper extends YamlMapper {
        /** Valid entries of routing.spillover.order, checked against the backends' regions at the end. */
        final List<Entry> spilloverOrder = new ArrayList<>();
        /** Regions of every backend entry, including entries with other problems (no false alarms). */
        final Set<String> backendRegions = new HashSet<>();
        /** The {@code store: redis} entries of every rate limit, checked against the {@code redis} section at the end. */
        final List<Entry> redisStores = new ArrayList<>();

        /** The TLS engine's check of the {@code tls} section's certificates, or null when there is none. */
        final CertificateCheck certificates;

        Mapper(Set<Integer> tagged) {
            this(tagged, null);
        }

        Mapper(Set<Integer> tagged, CertificateCheck certificates) {
            super(tagged);
            this.certificates = certificates;
        }

        BalancerConfig balancer(Node root) {
            if (!(root instanceof MappingNode)) {
                problem("(top level)", root, "expected a mapping, got " + describe(root));
                return null;
            }
            Section top = section(root, "", BalancerSchema.FILE);
            if (top == null) {
                return null;
            }
            SectionValues file = read(top, BalancerSchema.FILE);
            ListenConfig listen = ListenSection.read(this, read(top, "listen", BalancerSchema.LISTEN), null);
            SectionValues adminValues = read(top, "admin", BalancerSchema.ADMIN);
            ListenConfig admin = ListenSection.read(this, adminValues, null);
            AdminTokenConfig adminToken = AdminSection.token(this, adminValues.section());
            String region = file.name("region");
            RoutingConfig routing = RoutingSection.read(this, top).withAffinity(AffinitySection.read(this, top, "affinity"));
            Map<String, String> backendIds = new HashMap<>();
            DiscoveryConfig discovery = DiscoverySection.read(this, top, "discovery", region);
            // With `pools`, the top-level `backends` (the pool "default") are optional; `discovery`
            // replaces them.
            List<BackendConfig> backends = top.get("pools") != null && top.get("backends") == null
                    || DiscoverySection.replacesBackends(top, "discovery") ? List.of()
                    : BackendsSection.read(this, top, region, backendIds);
            HealthConfig health = InheritedSection.HEALTH.read(this, top, HealthConfig.DEFAULT);
            OutlierConfig outlier = InheritedSection.OUTLIER.read(this, top, OutlierConfig.DEFAULT);
            RetryConfig retry = InheritedSection.RETRY.read(this, top, RetryConfig.DEFAULT);
            TimeoutsConfig timeouts = InheritedSection.TIMEOUTS.read(this, top, TimeoutsConfig.DEFAULT);
            BackendProtocol protocol = ProtocolSection.read(this, top, BalancerSchema.FILE, BackendProtocol.HTTP1,
                    backends, health);
            List<PoolConfig> pools = PoolsSection.read(this, top,
                    new PoolsSection.Inherited(routing, health, outlier, retry, timeouts, protocol), region,
                    backends.isEmpty() && discovery == null ? null
                            : new PoolConfig(PoolConfig.DEFAULT, backends, routing, health, outlier, retry, timeouts,
                                    discovery, protocol),
                    backendIds);
            RoutingSection.checkSpilloverRegions(this);
            Set<String> poolNames = new java.util.LinkedHashSet<>();
            pools.forEach(p -> poolNames.add(p.name()));
            List<RouteConfig> routes = RoutesSection.read(this, top, poolNames);
            String defaultPool = RoutesSection.defaultPool(this, top, poolNames);
            LimitsConfig limits = LimitsSection.read(this, top);
            String accessLog = AccessLogSection.read(this, top);
            String backendHeader = headerName(top, "backend-header");
            String accessLogFormat = AccessLogSection.format(this, top);
            String transport = TransportSection.read(this, top);
            DecisionHeaderConfig decisionHeader = DecisionHeaderSection.read(this, top);
            TlsConfig tls = TlsSection.read(this, top, listen);
            Http2Config http2 = Http2Section.read(this, top);
            BackendTlsConfig backendTls = BackendTlsSection.read(this, top);
            TrustedEdgesConfig trustedEdges = TrustedEdgesSection.read(this, top);
            RateLimitConfig rateLimit = RateLimitSection.read(this, top, "rate-limit");
            HeadersConfig headers = HeadersSection.read(this, top);
            RedisConfig redis = RedisSection.read(this, top);
            ClientNetworksConfig clientNetworks = AccessSection.clientNetworks(this, top);
            if (!problems.isEmpty()) {
                return null;
            }
            return BalancerConfig.builder()
                    .listen(listen).admin(admin).region(region).routing(routing).backends(backends)
                    .health(health).outlier(outlier).retry(retry).timeouts(timeouts).limits(limits)
                    .accessLog(accessLog).backendHeader(backendHeader).accessLogFormat(accessLogFormat)
                    .adminToken(adminToken).decisionHeader(decisionHeader).tls(tls).http2(http2)
                    .backendTls(backendTls).pools(pools).routes(routes).defaultPool(defaultPool)
                    .trustedEdges(trustedEdges).rateLimit(rateLimit).headers(headers).transport(transport)
                    .redis(redis).clientNetworks(clientNetworks).build();
        }

        // ---- sections -------------------------------------------------------------------------

        /** An optional header name (RFC 9110 token); absent or null turns the feature off. */
        String headerName(Section s, String key) {
            Entry e = s.get(key);
            if (e == null || !checkTag(e.path(), e.value()) || isNull(e.value())) {
                return null;
            }
            String text = scalarText(e, "a header name");
            if (text == null) {
                return null;
            }
            if (!TOKEN.matcher(text).matches()) {
                problem(e.path(), e.value(), "not a valid header name: \"" + text + "\" (expected: an RFC 9110 token)");
                return null;
            }
            return text;
        }

        /**
         * Gives {@code each}, in order, every item of the list {@code seq} at {@code path} that is a
         * mapping, as a section at {@code path[i]} checked against {@code table}; a tagged item is
         * reported, and any other item as not {@code expected}.
         */
        void eachMapping(String path, SequenceNode seq, FieldTable table, String expected, Consumer<Section> each) {
            List<Node> items = seq.getValue();
            for (int i = 0; i < items.size(); i++) {
                String itemPath = path + "[" + i + "]";
                Node item = items.get(i);
                if (!checkTag(itemPath, item)) {
                    continue;
                }
                if (!(item instanceof MappingNode)) {
                    problem(itemPath, item, "expected " + expected + ", got " + describe(item));
                    continue;
                }
                Section s = section(item, itemPath, table);
                if (s != null) {
                    each.accept(s);
                }
            }
        }

        /**
         * The nested section {@code key} of {@code parent}, its keys checked against {@code table};
         * {@code null} when it is absent or null (an optional feature left off).
         */
        Section optional(Section parent, String key, FieldTable table) {
            Entry e = parent.get(key);
            return e == null || isNull(e.value()) ? null : subsection(parent, key, table);
        }

        /**
         * The one of the keys {@code first} and {@code second} that {@code s} sets. Both set is a
         * problem at the second; neither, in an empty mapping, a problem showing {@code examples};
         * {@code null} then, and when the section is absent, null or not a mapping.
         */
        Entry either(Section s, String first, String second, String examples) {
            Entry a = s.get(first);
            Entry b = s.get(second);
            if (a != null && b != null) {
                problem(b.path(), b.key(), "set either " + a.path() + " or " + b.path() + ", not both");
                return null;
            }
            if (a == null && b == null) {
                if (s.node instanceof MappingNode map && map.getValue().isEmpty()) {
                    problem(s.path, s.node, "expected " + first + " or " + second + ", e.g. " + examples);
                }
                return null;
            }
            return a != null ? a : b;
        }

        /**
         * Whether {@code max} is at least {@code min}; if not, reports it at {@code maxKey} when the
         * section sets it, else at {@code minKey}.
         */
        boolean notShorter(Section s, String maxKey, Duration max, String minKey, Duration min) {
            if (max.compareTo(min) >= 0) {
                return true;
            }
            Entry at = s.get(maxKey) != null ? s.get(maxKey) : s.get(minKey);
            problem(at.path(), at.value(), maxKey + " " + Durations.format(max) + " is shorter than " + minKey + " "
                    + Durations.format(min) + " (expected: " + maxKey + " >= " + minKey + ")");
            return false;
        }

        static boolean isRequestTarget(String path) {
            if (!path.startsWith("/")) {
                return false;
            }
            for (int i = 0; i < path.length(); i++) {
                char c = path.charAt(i);
                if (c <= ' ' || c >= 0x7f) {
                    return false;
                }
            }
            return true;
        }

    }
}
