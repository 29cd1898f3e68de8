package io.fulcrum.balancer.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;

/**
 * What an {@link Exchange} may ask of a client connection that can switch protocols: an HTTP/1.1
 * connection whose request asked to upgrade (RFC 9110 section 7.8). Only the HTTP/1.1 frontend
 * offers it (the HTTP/1.1 frontend's {@code FrontendTunnel}); an HTTP/2 stream carries no upgrade (RFC 9113 section 8.2.2: {@code Connection}
 * and {@code Upgrade} are refused there, and the extended CONNECT of RFC 8441 is not offered), so
 * its exchanges get none. An exchange holds one only while its request is an upgrade request.
 *
 * <p>Every method is called on the client connection's event loop.
 */
public interface TunnelSide {
    /**
     * The backend switched protocols (101) for an upgrade request: writes and flushes
     * {@code switching}, and from then on the connection carries bytes both ways
     * ({@link #writeTunnel}) instead of HTTP messages.
     */
    void startTunnel(HttpResponse switching);

    /** Writes bytes the backend sent through the tunnel; flushed by {@link ClientSide#flushToClient()}. */
    void writeTunnel(ByteBuf data);

    /**
     * The backend sent the last byte of the tunnel: the client gets a FIN once what was written to
     * it is out, and may go on sending. A later {@link ClientSide#abortResponse} closes after those
     * writes.
     */
    void shutdownTunnelOutput();

    /** The upgrade request was answered without switching: the next request may be parsed. */
    void upgradeRefused();
}
