package io.fulcrum.node.store;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * One post as stored. {@code version} starts at 1 and grows by one on every edit; it is the post's
 * ETag and the value a client sends back in {@code If-Match} for optimistic concurrency
 * (RFC 9110 section 13.1.1).
 *
 * <p>Immutable and thread-safe.
 */
public record Post(long id, String author, String text, long version, Instant createdAt, Instant updatedAt) {
    /** Validates the post. */
    public Post {
        requireNonNull(author, "author");
        requireNonNull(text, "text");
        requireNonNull(createdAt, "createdAt");
        requireNonNull(updatedAt, "updatedAt");
    }

    /** The strong entity tag of this version, quoted as RFC 9110 section 8.8.3 requires. */
    public String etag() {
        return "\"" + version + "\"";
    }
}
