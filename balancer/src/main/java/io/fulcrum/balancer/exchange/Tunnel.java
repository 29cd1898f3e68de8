package io.fulcrum.balancer.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;

/**
 * The relay of a switched protocol: once a backend answered 101 to an upgrade request (RFC 9110
 * section 7.8; a WebSocket, RFC 6455), bytes go both ways between the client connection and the
 * try's backend connection, with the same backpressure as a body, until both sides have sent all
 * they will or either closes. Each side's FIN is passed on as a FIN of the other's, once what was
 * relayed to it is out: a WebSocket server closes its TCP connection first (RFC 6455 section
 * 7.1.1), and a client that half-closes still reads what the server has left to send.
 *
 * <p>The exchange's {@link Relay} holds one while TUNNELING, so only a 101 allocates it; its try
 * holds the backend's in-flight slot until the tunnel ends, so a backend's load counts its open
 * tunnels.
 *
 * <p>Not thread safe: confined to the client connection's event loop, which also runs the backend
 * connection.
 */
final class Tunnel {
    /** The client connection's side of the tunnel. */
    private final TunnelSide client;
    private final UpstreamTry upstream;
    /** Counts the bytes relayed each way for the access log. */
    private final ExchangeReport report;
    /** The client has sent all it will (its FIN came), and so has the backend. */
    private boolean clientSentAll;
    private boolean backendSentAll;

    Tunnel(TunnelSide client, UpstreamTry upstream, ExchangeReport report) {
        this.client = client;
        this.upstream = upstream;
        this.report = report;
    }

    /**
     * Opens the tunnel: {@code switching}, the 101 ready for the client, is written and flushed,
     * and both connections drop their HTTP codecs. The backend's decoder goes last, once the 101 is
     * written, so that the bytes it holds past the 101 follow it ({@link UpstreamTry#openTunnel()});
     * they are relayed before this returns, so the relay holds the tunnel before it opens it.
     */
    void open(HttpResponse switching, long nowNanos) {
        upstream.switchProtocols(nowNanos);
        client.startTunnel(switching);
        upstream.openTunnel();
    }

    /**
     * Relays bytes one way; ownership passes on. The client's are flushed by the frontend at the end
     * of its read, the backend's at the end of the backend's read.
     */
    void relay(boolean fromBackend, ByteBuf data) {
        int bytes = data.readableBytes();
        if (fromBackend) {
            report.sent(bytes);
            client.writeTunnel(data);
        } else {
            report.received(bytes);
            upstream.relay(data);
        }
    }

    /**
     * One side shut down its output (its FIN came, after all its bytes): the other side gets a FIN
     * of its own once what was relayed to it is out, and may go on sending.
     *
     * @return whether both sides have now sent all: the backend connection closes once its last
     *     bytes are out, and the tunnel is over
     */
    boolean inputShutdown(boolean fromBackend) {
        if (fromBackend) {
            backendSentAll = true;
            client.shutdownTunnelOutput();
        } else {
            clientSentAll = true;
            upstream.shutdownOutput();
        }
        // A connection without half-close is closed instead, which may have ended the tunnel already.
        if (clientSentAll && backendSentAll && upstream.connected()) {
            upstream.closeAfterWrites();
            return true;
        }
        return false;
    }
}
