package io.fulcrum.balancer.access;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpRequest;
import java.util.function.Supplier;

/**
 * One request as the access checks see it, read before the head is rewritten for the backend.
 * Immutable (the head itself is the request's, edited in place by a check that passes it).
 *
 * @param head the client's request head
 * @param requestId its request id
 * @param client the client's address as trusted edges name it
 * @param tls whether the client connected over TLS
 * @param alloc for the answers the checks give
 * @param connections a bootstrap for a connection to an auth service on the request's event
 *     loop, asked only by forward authentication
 */
public record AuthRequest(HttpRequest head, String requestId, String client, boolean tls, ByteBufAllocator alloc,
        Supplier<Bootstrap> connections) {
}
