package io.fulcrum.balancer.edge;

import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.AsciiString;

/**
 * Which header fields the balancer's HTTP/2 encoders (to clients and to backends) write as
 * never-indexed literals instead of adding them to the connection's HPACK dynamic table (RFC 7541
 * section 6.2.3): {@code x-request-id} and {@code traceparent}, whose values are new on every
 * message, so that indexing them would only push out the entries that do repeat (server,
 * content-type, date) and cost an insert and an eviction per message; and {@code set-cookie}, a
 * secret the table should not keep for later guesses to be compressed against (section 7.1.3).
 * Every other field is indexed as Netty does by default. Names arrive in lower case, as HTTP/2
 * requires. Stateless and thread-safe.
 */
public final class HpackIndexing {
    private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    private static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
    private static final AsciiString SET_COOKIE = AsciiString.cached("set-cookie");

    /** The detector to give Netty's HTTP/2 codec builders. */
    public static final Http2HeadersEncoder.SensitivityDetector NOT_INDEXED = (name, value) ->
            X_REQUEST_ID.contentEquals(name) || TRACEPARENT.contentEquals(name) || SET_COOKIE.contentEquals(name);

    private HpackIndexing() {
    }
}
