package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.config.CompressionConfig;
import io.fulcrum.balancer.config.CompressionConfig.Encoding;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.Zstd;
import io.netty.handler.codec.compression.ZstdEncoder;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Locale;

/**
 * A response body compressed on its way to the client, part by part as the backend sends it: each
 * part is compressed and flushed out of the encoder at once (gzip by the JDK's deflater with a sync
 * flush, zstd by Netty's encoder, a frame per part), so no body is held whole and an answer that
 * trickles in reaches the client as it comes. {@link #begin} decides, from the route's
 * {@link CompressionConfig}, the client's {@code Accept-Encoding} and the response head, whether a
 * response is compressed, and edits the head when it is; a response that is not costs nothing past
 * that decision.
 *
 * <p>Not thread safe: confined to the client connection's event loop.
 */
final class ResponseCompression {
    private static final String NO_TRANSFORM = "no-transform";
    // Written as the fields are usually spelled; HTTP/2 lower-cases them on its way.
    private static final AsciiString ACCEPT_ENCODING = AsciiString.cached("Accept-Encoding");
    private static final AsciiString CONTENT_ENCODING = AsciiString.cached("Content-Encoding");
    private static final AsciiString VARY = AsciiString.cached("Vary");
    private static final AsciiString ETAG = AsciiString.cached("ETag");
    private static final int ZSTD_LEVEL = 3;
    private static final int ZSTD_BLOCK = 64 * 1024;
    private static final int ZSTD_MAX_ENCODE = 32 * 1024 * 1024;

    /** Netty's encoder of the chosen coding, driven by hand. */
    private final EmbeddedChannel encoder;

    private ResponseCompression(Encoding encoding, int gzipLevel) {
        this.encoder = new EmbeddedChannel(encoding == Encoding.GZIP
                ? ZlibCodecFactory.newZlibEncoder(ZlibWrapper.GZIP, gzipLevel)
                : new ZstdEncoder(ZSTD_LEVEL, ZSTD_BLOCK, ZSTD_MAX_ENCODE));
    }

    /**
     * The compression of {@code response}, or {@code null} when it goes as it came: a response to
     * HEAD, a 1xx, 204, 206 or 304, one already encoded, marked {@code no-transform}, of a type not
     * listed, an event stream, shorter than {@code min-bytes}, or for a client that accepts none of
     * the encodings. {@code Vary: Accept-Encoding} is added to every response that would be
     * compressed for a client that asks; a compressed one loses its {@code Content-Length} (its
     * framing is then chunked, or the close for HTTP/1.0) and its strong {@code ETag} turns weak.
     *
     * @param acceptEncoding the client's {@code Accept-Encoding}, or {@code null}
     */
    static ResponseCompression begin(CompressionConfig config, String acceptEncoding, HttpResponse response,
            boolean head) {
        int code = response.status().code();
        HttpHeaders headers = response.headers();
        if (head || code < 200 || code == 204 || code == 206 || code == 304
                || headers.contains(HttpHeaderNames.CONTENT_ENCODING)
                || !listedType(config.types(), headers.get(HttpHeaderNames.CONTENT_TYPE))
                || headers.containsValue(HttpHeaderNames.CACHE_CONTROL, NO_TRANSFORM, true)
                || shorter(headers.get(HttpHeaderNames.CONTENT_LENGTH), config.minBytes())) {
            return null;
        }
        addVary(headers);
        Encoding encoding = negotiate(config.encodings(), acceptEncoding);
        if (encoding == null) {
            return null;
        }
        headers.remove(HttpHeaderNames.CONTENT_LENGTH);
        headers.set(CONTENT_ENCODING, encoding.token());
        String etag = headers.get(HttpHeaderNames.ETAG);
        if (etag != null && etag.startsWith("\"")) {
            // The compressed bytes are another representation: a strong validator no longer holds.
            headers.set(ETAG, "W/" + etag);
        }
        return new ResponseCompression(encoding, config.gzipLevel());
    }

    /** A part of the body, compressed; ownership of {@code part} passes here. */
    HttpContent encode(HttpContent part) {
        ByteBuf in = part.content();
        if (in.isReadable()) {
            encoder.writeOutbound(in);
        } else {
            in.release();
        }
        if (part instanceof LastHttpContent) {
            // The encoder's end: what it still held, and gzip's trailer (length and CRC).
            encoder.finish();
        }
        return part.replace(drain());
    }

    /** Frees what the encoder still holds when the response ended before its last part. */
    void release() {
        encoder.finishAndReleaseAll();
    }

    private ByteBuf drain() {
        ByteBuf out = null;
        CompositeByteBuf parts = null;
        for (ByteBuf b = encoder.readOutbound(); b != null; b = encoder.readOutbound()) {
            if (!b.isReadable()) {
                b.release();
            } else if (out == null) {
                out = b;
            } else {
                if (parts == null) {
                    parts = out.alloc().compositeBuffer().addComponent(true, out);
                }
                parts.addComponent(true, b);
            }
        }
        return parts != null ? parts : out != null ? out : Unpooled.EMPTY_BUFFER;
    }

    /** Whether {@code contentLength} is a length below {@code min}. */
    private static boolean shorter(String contentLength, long min) {
        if (contentLength == null || min == 0) {
            return false;
        }
        try {
            return Long.parseLong(contentLength.trim()) < min;
        } catch (NumberFormatException e) {
            return true;
        }
    }

    /**
     * Whether the media type of {@code contentType} is among {@code types} ({@code text/*} matching
     * every {@code text/...}); an event stream never is, since its parts must reach the client as
     * they come and a drain ends it with an empty last part of its own.
     */
    static boolean listedType(List<String> types, String contentType) {
        if (contentType == null) {
            return false;
        }
        int end = contentType.indexOf(';');
        String type = (end < 0 ? contentType : contentType.substring(0, end)).trim().toLowerCase(Locale.ROOT);
        if (type.equals("text/event-stream")) {
            return false;
        }
        int slash = type.indexOf('/');
        for (int i = 0; i < types.size(); i++) {
            String t = types.get(i);
            if (t.equals(type) || (slash > 0 && t.endsWith("/*") && t.length() == slash + 2
                    && type.regionMatches(0, t, 0, slash + 1))) {
                return true;
            }
        }
        return false;
    }

    private static void addVary(HttpHeaders headers) {
        for (String vary : headers.getAll(HttpHeaderNames.VARY)) {
            for (String name : vary.split(",")) {
                String n = name.trim();
                if (n.equals("*") || n.equalsIgnoreCase(HttpHeaderNames.ACCEPT_ENCODING.toString())) {
                    return;
                }
            }
        }
        headers.add(VARY, ACCEPT_ENCODING);
    }

    /**
     * The encoding for a client's {@code Accept-Encoding} (RFC 9110 section 12.5.3): of {@code offered},
     * the one with the highest q-value above 0, the first offered on a tie; a coding the header does
     * not name has the q-value of {@code *}, or none; {@code x-gzip} is {@code gzip}. {@code null}
     * without the header, when none is acceptable, or when {@code identity} has a higher q-value
     * than the best. Zstd counts only where its native library loads.
     */
    static Encoding negotiate(List<Encoding> offered, String acceptEncoding) {
        if (acceptEncoding == null) {
            return null;
        }
        double[] q = new double[Encoding.values().length];
        java.util.Arrays.fill(q, -1);
        double any = -1;
        double identity = -1;
        for (String element : acceptEncoding.split(",")) {
            int semi = element.indexOf(';');
            String coding = (semi < 0 ? element : element.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
            double weight = semi < 0 ? 1 : qValue(element.substring(semi + 1));
            switch (coding) {
                case "*" -> any = weight;
                case "identity" -> identity = weight;
                case "gzip", "x-gzip" -> q[Encoding.GZIP.ordinal()] = Math.max(q[Encoding.GZIP.ordinal()], weight);
                case "zstd" -> q[Encoding.ZSTD.ordinal()] = weight;
                default -> {
                    // A coding the balancer does not apply.
                }
            }
        }
        Encoding best = null;
        double bestQ = 0;
        for (Encoding e : offered) {
            double w = q[e.ordinal()] >= 0 ? q[e.ordinal()] : any;
            if (w > bestQ && (e != Encoding.ZSTD || Zstd.isAvailable())) {
                best = e;
                bestQ = w;
            }
        }
        return best == null || identity > bestQ ? null : best;
    }

    /** The {@code q} of an element's parameters ({@code q=0.5}); 1 when absent, 0 when malformed. */
    private static double qValue(String parameters) {
        for (String p : parameters.split(";")) {
            String t = p.trim();
            if (t.length() > 2 && (t.charAt(0) == 'q' || t.charAt(0) == 'Q') && t.charAt(1) == '=') {
                try {
                    double v = Double.parseDouble(t.substring(2).trim());
                    return v >= 0 && v <= 1 ? v : 0;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1;
    }
}
