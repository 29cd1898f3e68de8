package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Locale;

/**
 * A route's response compression: which encodings the balancer may apply, to which media types, and
 * from which size on. Immutable.
 *
 * @param encodings the encodings offered, in the order preferred when the client's q-values tie
 * @param types media types compressed, lower case, without parameters; {@code text/*} matches a
 *     whole top-level type
 * @param minBytes a response whose {@code Content-Length} is below this goes as it came; one of
 *     unknown length is compressed
 * @param gzipLevel the deflate level for gzip, 1 (fastest) to 9 (smallest)
 */
public record CompressionConfig(List<Encoding> encodings, List<String> types, long minBytes, int gzipLevel) {
    /** The media types compressed when {@code types} is not given: text that compresses well. */
    public static final List<String> DEFAULT_TYPES = List.of("text/html", "text/plain", "text/css",
            "text/javascript", "text/xml", "application/javascript", "application/json", "application/xml",
            "application/problem+json", "image/svg+xml");
    public static final long DEFAULT_MIN_BYTES = 1024;
    public static final int DEFAULT_GZIP_LEVEL = 6;

    /** A content coding the balancer can apply (RFC 9110 section 8.4.1). */
    public enum Encoding {
        GZIP,
        /** Zstandard (RFC 8878); only where its native library loads. */
        ZSTD;

        /** The token of {@code Accept-Encoding} and {@code Content-Encoding}. */
        public String token() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public CompressionConfig {
        encodings = List.copyOf(requireNonNull(encodings, "encodings"));
        types = List.copyOf(requireNonNull(types, "types"));
        if (encodings.isEmpty() || minBytes < 0 || gzipLevel < 1 || gzipLevel > 9) {
            throw new IllegalArgumentException("compression: encodings " + encodings + ", min-bytes " + minBytes
                    + ", gzip-level " + gzipLevel);
        }
    }
}
