package io.fulcrum.node.http;

import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import org.slf4j.Logger;

/**
 * How the node's handlers end a connection after an error reached {@code exceptionCaught}: the
 * API's and the admin port's alike.
 *
 * <p>Stateless and thread-safe; called on the channel's event loop.
 */
final class Disconnect {
    private Disconnect() {
    }

    /**
     * Closes {@code ctx}'s channel after {@code cause}, logged to the handler's own {@code log}: an
     * {@link IOException} (the peer reset or abandoned the connection: a client that stops sending
     * after a 413, a browser tab closed) is ordinary on the Internet and gets one line at DEBUG, not
     * worth a stack trace; anything else is unexpected and logged at WARN with its stack.
     *
     * @param connection the connection as the log names it
     */
    static void afterError(ChannelHandlerContext ctx, Throwable cause, Logger log, String connection) {
        if (cause instanceof IOException) {
            log.debug("Closing {}: {}", connection, cause.toString());
        } else {
            log.warn("Closing {} after an unexpected error", connection, cause);
        }
        ctx.close();
    }
}
