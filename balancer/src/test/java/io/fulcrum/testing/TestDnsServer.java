package io.fulcrum.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny authoritative DNS server for tests, on UDP 127.0.0.1 and a free port, built on Netty's DNS
 * codec: it answers A, AAAA and SRV questions from records the test sets and changes while it runs (an
 * SRV answer carries its targets' A records in the additional section), with the TTL the test
 * sets, and can be made to answer SERVFAIL. Thread-safe.
 */
public final class TestDnsServer implements AutoCloseable {
    /** One SRV record; {@code target} is a name with A records set through {@link #a}. */
    public record Srv(int priority, int weight, int port, String target) {
    }

    private final EventLoopGroup group;
    private final Channel channel;
    private final Map<String, List<String>> a = new ConcurrentHashMap<>();
    private final Map<String, List<Srv>> srv = new ConcurrentHashMap<>();
    private final AtomicInteger queries = new AtomicInteger();
    private volatile long ttl = 1;
    private volatile boolean failing;
    private volatile boolean additional = true;

    private TestDnsServer() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("test-dns", true), NioIoHandler.newFactory());
        channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new Responder());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public static TestDnsServer start() throws InterruptedException {
        return new TestDnsServer();
    }

    /** {@code 127.0.0.1:port}, as {@code discovery.dns.server} takes it. */
    public String address() {
        return "127.0.0.1:" + ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Sets the addresses of {@code name}: IPv4 ones answer A questions, IPv6 ones AAAA (none: it has none). */
    public TestDnsServer a(String name, String... addresses) {
        a.put(key(name), List.of(addresses));
        return this;
    }

    /** Sets the SRV records of {@code name}. */
    public TestDnsServer srv(String name, Srv... records) {
        srv.put(key(name), List.of(records));
        return this;
    }

    /** The TTL of every record answered from now on, in seconds. */
    public TestDnsServer ttl(long seconds) {
        this.ttl = seconds;
        return this;
    }

    /** While on, every question is answered SERVFAIL. */
    public TestDnsServer failing(boolean on) {
        this.failing = on;
        return this;
    }

    /** Whether SRV answers carry their targets' addresses (on by default); off, a client asks for them. */
    public TestDnsServer additional(boolean on) {
        this.additional = on;
        return this;
    }

    /** Questions received so far. */
    public int queries() {
        return queries.get();
    }

    private static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n : n + ".";
    }

    private final class Responder extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) throws Exception {
            queries.incrementAndGet();
            DnsQuestion question = query.recordAt(DnsSection.QUESTION);
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.setAuthoritativeAnswer(true);
            response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(question.name(), question.type()));
            String name = key(question.name());
            if (failing) {
                response.setCode(DnsResponseCode.SERVFAIL);
            } else if (question.type() == DnsRecordType.A || question.type() == DnsRecordType.AAAA) {
                addAddresses(response, DnsSection.ANSWER, name, question.type());
            } else if (question.type() == DnsRecordType.SRV) {
                for (Srv s : srv.getOrDefault(name, List.of())) {
                    ByteBuf content = Unpooled.buffer();
                    content.writeShort(s.priority()).writeShort(s.weight()).writeShort(s.port());
                    writeName(content, key(s.target()));
                    response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(name, DnsRecordType.SRV, ttl, content));
                    if (additional) {
                        addAddresses(response, DnsSection.ADDITIONAL, key(s.target()), DnsRecordType.A);
                    }
                }
            }
            if (!failing && response.count(DnsSection.ANSWER) == 0) {
                response.setCode(DnsResponseCode.NXDOMAIN);
            }
            ctx.writeAndFlush(response);
        }

        /** The name's IPv4 addresses as A records, or its IPv6 ones as AAAA records. */
        private void addAddresses(DatagramDnsResponse response, DnsSection section, String name, DnsRecordType type)
                throws UnknownHostException {
            for (String address : a.getOrDefault(name, List.of())) {
                byte[] bytes = InetAddress.getByName(address).getAddress();
                if ((bytes.length == 4) == (type == DnsRecordType.A)) {
                    response.addRecord(section, new DefaultDnsRawRecord(name, type, ttl, Unpooled.wrappedBuffer(bytes)));
                }
            }
        }

        private void writeName(ByteBuf out, String name) {
            for (String label : name.split("\\.")) {
                if (!label.isEmpty()) {
                    byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                    out.writeByte(bytes.length).writeBytes(bytes);
                }
            }
            out.writeByte(0);
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
