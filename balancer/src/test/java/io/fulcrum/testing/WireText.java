package io.fulcrum.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 as the {@code EmbeddedChannel} tests write and read it: text with {@code |} for each
 * CRLF going in, and what a channel wrote out as one string. Stateless.
 */
public final class WireText {
    private WireText() {
    }

    /** The bytes of {@code raw} (ISO-8859-1), each {@code |} a CRLF; the caller owns the buffer. */
    public static ByteBuf bytes(String raw) {
        return Unpooled.copiedBuffer(raw.replace("|", "\r\n"), StandardCharsets.ISO_8859_1);
    }

    /** Every buffer the channel wrote out so far, in order, as ISO-8859-1 text; each is released. */
    public static String outbound(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }
}
