package io.fulcrum.balancer.discovery;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.DiscoveryConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Backends from DNS: asks for the configured name's A, AAAA or SRV records with Netty's
 * asynchronous resolver, on a discovery event loop that carries no traffic, and asks again when the
 * answer's TTL (the smallest of its records, kept between {@code min-ttl} and {@code max-ttl})
 * runs out. The resolver's own caches are off, so every ask reaches the server. A failed ask
 * (timeout, error code, no records) keeps the last known set, is reported, and is retried after
 * {@code min-ttl}, doubling up to {@code max-ttl} while it keeps failing.
 *
 * <p>A and AAAA: one backend per address, on the configured port, id {@code address-port}
 * (colons of IPv6 addresses as underscores). SRV: one backend per record of the lowest priority,
 * its target's addresses taken from the answer's additional section or asked for, its port and
 * weight (0 counts as 1) from the record, id {@code target-port}.
 *
 * <p>Confined to its event loop.
 */
final class DnsSource implements AutoCloseable {
    /** Where a resolution ends; called on the discovery loop. */
    interface Listener {
        void resolved(List<BackendConfig> backends);

        void failed(String why);
    }

    private final DiscoveryConfig.Dns config;
    private final EventLoop loop;
    private final Listener listener;
    private final DnsNameResolver resolver;
    private final String name;
    private long failures;
    private ScheduledFuture<?> next;
    private boolean closed;

    DnsSource(DiscoveryConfig.Dns config, EventLoop loop, Listener listener) {
        this.config = requireNonNull(config, "config");
        this.loop = requireNonNull(loop, "loop");
        this.listener = requireNonNull(listener, "listener");
        this.name = config.name().endsWith(".") ? config.name() : config.name() + ".";
        DnsNameResolverBuilder builder = new DnsNameResolverBuilder(loop)
                .datagramChannelType(NioDatagramChannel.class)
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
                .searchDomains(List.of())
                .ndots(1)
                .queryTimeoutMillis(Math.max(500, Math.min(5000, config.minTtl().toMillis())))
                .nameServerProvider(config.server() == null ? DnsServerAddressStreamProviders.platformDefault()
                        : new SingletonDnsServerAddressStreamProvider(server(config.server())));
        this.resolver = builder.build();
    }

    private static InetSocketAddress server(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    }

    void start() {
        loop.execute(this::resolve);
    }

    private void resolve() {
        if (closed) {
            return;
        }
        DnsRecordType type = switch (config.type()) {
            case A -> DnsRecordType.A;
            case AAAA -> DnsRecordType.AAAA;
            case SRV -> DnsRecordType.SRV;
        };
        Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> answer = resolver.query(new DefaultDnsQuestion(name, type));
        answer.addListener(f -> answered(answer));
    }

    private void answered(Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> f) {
        if (closed) {
            if (f.isSuccess()) {
                f.getNow().release();
            }
            return;
        }
        if (!f.isSuccess()) {
            // Without the query id the resolver puts in its messages, so that a repeated failure reads the same.
            Throwable cause = f.cause();
            fail("no answer for " + name + " " + config.type() + ": " + (cause instanceof DnsNameResolverTimeoutException
                    ? "timed out" : cause.getClass().getSimpleName()));
            return;
        }
        AddressedEnvelope<DnsResponse, InetSocketAddress> envelope = f.getNow();
        try {
            DnsResponse response = envelope.content();
            if (response.code() != DnsResponseCode.NOERROR) {
                fail(name + " " + config.type() + ": " + response.code());
                return;
            }
            if (config.type() == DiscoveryConfig.Type.SRV) {
                services(response);
            } else {
                addresses(response);
            }
        } catch (RuntimeException | UnknownHostException e) {
            fail(name + " " + config.type() + ": malformed answer (" + e + ")");
        } finally {
            envelope.release();
        }
    }

    private void addresses(DnsResponse response) throws UnknownHostException {
        DnsRecordType type = config.type() == DiscoveryConfig.Type.A ? DnsRecordType.A : DnsRecordType.AAAA;
        List<BackendConfig> found = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        for (int i = 0, n = response.count(DnsSection.ANSWER); i < n; i++) {
            DnsRecord r = response.recordAt(DnsSection.ANSWER, i);
            if (r.type() == type && r instanceof DnsRawRecord raw) {
                InetAddress address = address(raw.content());
                ttl = Math.min(ttl, r.timeToLive());
                BackendConfig b = backend(address.getHostAddress(), config.port(), config.weight());
                if (!found.contains(b)) {
                    found.add(b);
                }
            }
        }
        finish(found, ttl);
    }

    private record Service(String target, int port, int weight, long ttl) {
    }

    private void services(DnsResponse response) throws UnknownHostException {
        List<Service> services = new ArrayList<>();
        int lowestPriority = Integer.MAX_VALUE;
        List<Integer> priorities = new ArrayList<>();
        for (int i = 0, n = response.count(DnsSection.ANSWER); i < n; i++) {
            DnsRecord r = response.recordAt(DnsSection.ANSWER, i);
            if (r.type() == DnsRecordType.SRV && r instanceof DnsRawRecord raw) {
                ByteBuf c = raw.content().duplicate();
                int priority = c.readUnsignedShort();
                int weight = c.readUnsignedShort();
                int port = c.readUnsignedShort();
                // RFC 2782: the target is never compressed, so it decodes on its own.
                String target = DefaultDnsRecordDecoder.decodeName(c).toLowerCase(Locale.ROOT);
                if (port == 0 || target.equals(".")) {
                    continue;
                }
                services.add(new Service(target, port, Math.max(1, weight), r.timeToLive()));
                priorities.add(priority);
                lowestPriority = Math.min(lowestPriority, priority);
            }
        }
        Map<String, List<InetAddress>> addresses = new HashMap<>();
        long additionalTtl = Long.MAX_VALUE;
        for (int i = 0, n = response.count(DnsSection.ADDITIONAL); i < n; i++) {
            DnsRecord r = response.recordAt(DnsSection.ADDITIONAL, i);
            if ((r.type() == DnsRecordType.A || r.type() == DnsRecordType.AAAA) && r instanceof DnsRawRecord raw) {
                addresses.computeIfAbsent(r.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(address(raw.content()));
                additionalTtl = Math.min(additionalTtl, r.timeToLive());
            }
        }
        Map<String, Service> chosen = new LinkedHashMap<>();
        for (int i = 0; i < services.size(); i++) {
            if (priorities.get(i) == lowestPriority) {
                chosen.put(services.get(i).target() + ":" + services.get(i).port(), services.get(i));
            }
        }
        List<String> missing = chosen.values().stream().map(Service::target)
                .filter(t -> !addresses.containsKey(t)).distinct().toList();
        long ttl = Math.min(additionalTtl, chosen.values().stream().mapToLong(Service::ttl).min().orElse(Long.MAX_VALUE));
        if (missing.isEmpty()) {
            finish(srvBackends(chosen, addresses), ttl);
            return;
        }
        int[] left = {missing.size()};
        for (String target : missing) {
            resolver.resolveAll(target).addListener((Future<List<InetAddress>> r) -> {
                if (r.isSuccess()) {
                    addresses.put(target, r.getNow());
                }
                if (--left[0] == 0 && !closed) {
                    finish(srvBackends(chosen, addresses), ttl);
                }
            });
        }
    }

    private List<BackendConfig> srvBackends(Map<String, Service> chosen, Map<String, List<InetAddress>> addresses) {
        List<BackendConfig> found = new ArrayList<>();
        for (Service s : chosen.values()) {
            List<InetAddress> list = addresses.get(s.target());
            if (list == null || list.isEmpty()) {
                continue;
            }
            // One backend per target and port, at its first address: ids stay stable across answers.
            String target = s.target().endsWith(".") ? s.target().substring(0, s.target().length() - 1) : s.target();
            found.add(new BackendConfig(target + "-" + s.port(), list.get(0).getHostAddress(), s.port(),
                    config.region(), s.weight(), config.maxInFlight()));
        }
        return found;
    }

    private static InetAddress address(ByteBuf content) throws UnknownHostException {
        byte[] bytes = new byte[content.readableBytes()];
        content.getBytes(content.readerIndex(), bytes);
        return InetAddress.getByAddress(bytes);
    }

    private BackendConfig backend(String address, int port, int weight) {
        return new BackendConfig(address.replace(':', '_') + "-" + port, address, port, config.region(), weight,
                config.maxInFlight());
    }

    private void finish(List<BackendConfig> found, long ttlSeconds) {
        if (found.isEmpty()) {
            fail(name + " " + config.type() + ": no usable records");
            return;
        }
        failures = 0;
        listener.resolved(List.copyOf(found));
        Duration ttl = Duration.ofSeconds(Math.max(0, ttlSeconds == Long.MAX_VALUE ? 0 : ttlSeconds));
        schedule(clamp(ttl));
    }

    private void fail(String why) {
        failures++;
        listener.failed(why);
        long backoff = config.minTtl().toNanos() << Math.min(failures - 1, 20);
        schedule(clamp(Duration.ofNanos(backoff < 0 ? Long.MAX_VALUE : backoff)));
    }

    private Duration clamp(Duration d) {
        if (d.compareTo(config.minTtl()) < 0) {
            return config.minTtl();
        }
        return d.compareTo(config.maxTtl()) > 0 ? config.maxTtl() : d;
    }

    private void schedule(Duration delay) {
        if (!closed) {
            next = loop.schedule(this::resolve, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Stops asking; safe from any thread. */
    @Override
    public void close() {
        loop.execute(() -> {
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
            resolver.close();
        });
    }
}
