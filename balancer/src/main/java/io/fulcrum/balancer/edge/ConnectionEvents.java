package io.fulcrum.balancer.edge;

/**
 * The user events the balancer sends down a client connection's pipeline, which every handler
 * that owns the connection's fate (the PROXY header reader, the protocol switch, the HTTP/1.1 and
 * HTTP/2 frontends) reacts to.
 */
public final class ConnectionEvents {
    /** Sent to every client channel when the balancer starts draining. */
    public static final Object DRAIN = new Object();

    private ConnectionEvents() {
    }
}
