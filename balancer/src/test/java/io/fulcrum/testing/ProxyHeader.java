package io.fulcrum.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.nio.charset.StandardCharsets;

/**
 * PROXY protocol version 2 headers as bytes, encoded by Netty's own encoder, for tests that send
 * them ahead of a request on a raw connection ({@link RawHttpClient}); version 1 is text and needs
 * no help.
 *
 * <p>Stateless; safe from any thread.
 */
public final class ProxyHeader {
    private static final int SOURCE_PORT = 40000;

    private ProxyHeader() {
    }

    /**
     * A PROXY command for a TCP connection from {@code source} (port 40000) to
     * {@code destination:destinationPort}, over IPv6 when the source is an IPv6 address.
     */
    public static byte[] v2(String source, String destination, int destinationPort) {
        HAProxyProxiedProtocol protocol = source.contains(":") ? HAProxyProxiedProtocol.TCP6
                : HAProxyProxiedProtocol.TCP4;
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, protocol, source,
                destination, SOURCE_PORT, destinationPort));
    }

    /** A LOCAL command: the edge speaking for itself (its health check), so the peer is the client. */
    public static byte[] v2Local() {
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0));
    }

    /** {@code header} followed by {@code request}'s bytes (ISO-8859-1). */
    public static byte[] then(byte[] header, String request) {
        byte[] tail = request.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[header.length + tail.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(tail, 0, all, header.length, tail.length);
        return all;
    }

    private static byte[] encode(HAProxyMessage message) {
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        try {
            encoder.writeOutbound(message);
            ByteBuf out = encoder.readOutbound();
            try {
                return ByteBufUtil.getBytes(out);
            } finally {
                out.release();
            }
        } finally {
            encoder.finishAndReleaseAll();
        }
    }
}
