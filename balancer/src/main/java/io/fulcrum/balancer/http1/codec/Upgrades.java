package io.fulcrum.balancer.http1.codec;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Which requests are protocol upgrades that Fulcrum relays (RFC 9110 section 7.8): an HTTP/1.1
 * request without a body whose Connection lists {@code upgrade} and whose Upgrade names a protocol
 * other than {@code h2c} (the balancer speaks HTTP/1.1 to its backends, so HTTP/2 is never
 * negotiated through it). WebSocket (RFC 6455) is the common case. A 101 answer turns both
 * connections into a byte tunnel.
 */
public final class Upgrades {
    private Upgrades() {
    }

    /** The Upgrade value of a request Fulcrum relays as an upgrade, or {@code null}. */
    public static String requested(HttpRequest request) {
        if (request.protocolVersion() != HttpVersion.HTTP_1_1) {
            return null;
        }
        HttpHeaders headers = request.headers();
        if (!headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE, true)) {
            return null;
        }
        String upgrade = headers.get(HttpHeaderNames.UPGRADE);
        if (upgrade == null || upgrade.isBlank() || onlyH2c(upgrade)) {
            return null;
        }
        if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return null;
        }
        String length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        return length == null || length.equals("0") ? upgrade : null;
    }

    private static boolean onlyH2c(String upgrade) {
        for (String token : upgrade.split(",")) {
            if (!token.trim().equalsIgnoreCase("h2c")) {
                return false;
            }
        }
        return true;
    }
}
