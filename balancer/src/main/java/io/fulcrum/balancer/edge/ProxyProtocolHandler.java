package io.fulcrum.balancer.edge;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.ProtocolDetectionResult;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of a connection when {@code trusted-edges.proxy-protocol} is on: looks at the
 * connection's first bytes for a PROXY protocol header (v1 text or v2 binary, before any TLS).
 *
 * <ul>
 *   <li>No header: the bytes go on to the rest of the pipeline, which is built only now.
 *   <li>A header from a trusted peer, of an accepted version: Netty's {@link HAProxyMessageDecoder}
 *       reads it, its source address becomes the connection's address ({@link #SOURCE}), then the
 *       rest of the pipeline is built. A {@code LOCAL} command (the edge's own health check) or
 *       an {@code UNKNOWN} protocol keeps the peer's address.
 *   <li>A header from anybody else, of a version not accepted, or malformed: the connection
 *       closes at once, before anything else is read.
 * </ul>
 *
 * Building the rest of the pipeline afterwards means every later handler, TLS included, sees the
 * connection as if the header had never been there. Confined to the connection's event loop.
 */
public final class ProxyProtocolHandler extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(ProxyProtocolHandler.class);
    /** The source address a trusted edge's PROXY header gave; absent when none did. */
    public static final AttributeKey<InetSocketAddress> SOURCE = AttributeKey.valueOf("fulcrum.proxy-protocol.source");
    /**
     * The destination port of the same header: the port the client connected to on the edge,
     * which {@code X-Forwarded-Port} reports; absent when no header gave a source.
     */
    static final AttributeKey<Integer> DESTINATION_PORT = AttributeKey.valueOf("fulcrum.proxy-protocol.port");

    private final TrustedEdges edges;
    private final boolean trustedPeer;
    private final Consumer<ChannelPipeline> rest;
    private final Runnable onRefused;

    /**
     * @param rest builds the rest of the pipeline once the header, if any, is read
     * @param onRefused counts a connection closed for its PROXY header
     */
    public ProxyProtocolHandler(TrustedEdges edges, boolean trustedPeer, Consumer<ChannelPipeline> rest, Runnable onRefused) {
        this.edges = edges;
        this.trustedPeer = trustedPeer;
        this.rest = rest;
        this.onRefused = onRefused;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // Reading is explicit on client connections; nothing else in the pipeline asks yet.
        ctx.read();
        super.channelActive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (!ConnectionEvents.closesEarly(ctx, evt)) {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        ProtocolDetectionResult<HAProxyProtocolVersion> found = HAProxyMessageDecoder.detectProtocol(in);
        switch (found.state()) {
            case NEEDS_MORE_DATA -> {
                // ByteToMessageDecoder asks for another read when this one decoded nothing.
            }
            case INVALID -> {
                ChannelPipeline p = ctx.pipeline();
                rest.accept(p);
                // Removal hands what was read on to the handlers just added.
                p.remove(this);
            }
            case DETECTED -> {
                int version = found.detectedProtocol() == HAProxyProtocolVersion.V1 ? 1 : 2;
                if (!trustedPeer || !edges.acceptsProxyProtocol(version)) {
                    refuse(ctx, in, trustedPeer ? "PROXY protocol v" + version + " is not accepted"
                            : "PROXY header from an untrusted peer");
                    return;
                }
                ChannelPipeline p = ctx.pipeline();
                p.addAfter(ctx.name(), "proxy-protocol", new HAProxyMessageDecoder())
                        .addAfter("proxy-protocol", "proxy-source", new SourceHandler());
                p.remove(this);
            }
            default -> throw new IllegalStateException(found.state().name());
        }
    }

    private void refuse(ChannelHandlerContext ctx, ByteBuf in, String why) {
        in.skipBytes(in.readableBytes());
        onRefused.run();
        log.debug("{}: {}, closing", ctx.channel().remoteAddress(), why);
        ctx.close();
    }

    /** The connection's address: the PROXY header's source when a trusted edge sent one, else the peer. */
    public static InetSocketAddress connectionAddress(Channel ch) {
        InetSocketAddress source = fromHeader(ch, SOURCE);
        if (source != null) {
            return source;
        }
        // An HTTP/2 stream's addresses are its connection's.
        return ch.remoteAddress() instanceof InetSocketAddress peer ? peer : null;
    }

    /**
     * The port the client connected to: a trusted PROXY header's destination port when one gave
     * the connection's address, else the balancer's own listening port; -1 when unknown.
     */
    public static int connectionPort(Channel ch) {
        Integer port = fromHeader(ch, DESTINATION_PORT);
        if (port != null) {
            return port;
        }
        return ch.localAddress() instanceof InetSocketAddress local ? local.getPort() : -1;
    }

    /**
     * What the PROXY header set on {@code ch} or, for an HTTP/2 stream, on its connection;
     * {@code null} when no header gave it.
     */
    private static <T> T fromHeader(Channel ch, AttributeKey<T> key) {
        for (Channel c = ch; c != null; c = c.parent()) {
            T value = c.hasAttr(key) ? c.attr(key).get() : null;
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    /** Takes the decoded header, then makes way for the rest of the pipeline. */
    private final class SourceHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage header)) {
                ctx.fireChannelRead(msg);
                return;
            }
            try {
                if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null
                        && header.proxiedProtocol() != HAProxyProxiedProtocol.UNKNOWN
                        && header.proxiedProtocol().addressFamily() != HAProxyProxiedProtocol.AddressFamily.AF_UNIX) {
                    InetAddress source = TrustedEdges.parse(header.sourceAddress());
                    if (source != null) {
                        ctx.channel().attr(SOURCE).set(new InetSocketAddress(source, header.sourcePort()));
                        ctx.channel().attr(DESTINATION_PORT).set(header.destinationPort());
                    }
                }
            } finally {
                ReferenceCountUtil.release(header);
            }
            ChannelPipeline p = ctx.pipeline();
            rest.accept(p);
            p.remove(this);
            // The rest was added to an active connection: no channelActive reaches it, so it is
            // asked for its first bytes here (the decoder hands on any it already holds).
            ctx.channel().read();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!ConnectionEvents.closesEarly(ctx, evt)) {
                ctx.fireUserEventTriggered(evt);
            }
        }

        /** The decoder may report one bad header more than once; it is counted once. */
        private boolean refused;

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (refused) {
                return;
            }
            refused = true;
            onRefused.run();
            log.debug("{}: bad PROXY header ({}), closing", ctx.channel().remoteAddress(), cause.getMessage());
            ctx.close();
        }
    }
}
