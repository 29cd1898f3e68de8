package io.fulcrum.node.post;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The opaque {@code nextCursor} of the timeline: the id of the last post of a page, encoded so that
 * clients treat it as a token rather than a number they could compute. Versioned ({@code t1:}) so
 * the format can change without breaking cursors already handed out.
 *
 * <p>Stateless and thread-safe.
 */
public final class TimelineCursor {
    private static final String PREFIX = "t1:";

    private TimelineCursor() {
    }

    /** Encodes the position just after the post with {@code lastId}. */
    public static String encode(long lastId) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((PREFIX + lastId).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Decodes a cursor back to the id of the last post seen.
     *
     * @throws InvalidInputException naming {@code cursor} when it was not made by {@link #encode}
     */
    public static long decode(String cursor) {
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
            if (text.startsWith(PREFIX)) {
                long id = Long.parseLong(text.substring(PREFIX.length()));
                if (id > 0) {
                    return id;
                }
            }
        } catch (IllegalArgumentException e) {
            // Falls through to the error below; NumberFormatException is an IllegalArgumentException.
        }
        throw new InvalidInputException("cursor", "not a cursor returned by this API");
    }
}
