package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.AccessSchema.obj;

import io.fulcrum.config.FieldTable;
import java.util.List;
import java.util.Map;

/**
 * The keys inside a route: its match, its answers, its header edits and rewrite, its split, mirror
 * and compression, declared as {@link BalancerSchema} declares the rest of the file (whose route
 * table names these). It names nothing of {@link BalancerSchema} while it is made, so either may be
 * loaded first. Immutable and thread-safe.
 */
final class RouteSchema {
    static final FieldTable PATH_MATCH = FieldTable.builder("Exactly one of prefix, exact, regex; on the raw path")
            .custom("prefix", null, obj("type", "string", "pattern", "^/"),
                    "At a segment boundary unless it ends in /")
            .custom("exact", null, obj("type", "string", "pattern", "^/"), "The whole path")
            .custom("regex", null, obj("type", "string"), "Java syntax, the whole path")
            .build();

    static final FieldTable HEADER_MATCH = FieldTable.builder("A header that must be present, or equal")
            .custom("name", null, headerSchema(), "Header name (required)")
            .custom("value", null, obj("type", "string"), "Value it must equal (default: any)")
            .build();

    static final FieldTable MATCH = FieldTable.builder("Conditions that must all hold (default: every request)")
            .custom("host", null, obj("type", List.of("string", "array"), "items", obj("type", "string")),
                    "A name or a list; exact or *.suffix; case-insensitive; no port")
            .section("path", PATH_MATCH, "Path condition")
            .custom("methods", null, obj("type", "array", "items", headerSchema()), "Methods, case-sensitive")
            .sections("headers", HEADER_MATCH, "Headers that must be present (or equal)")
            .build();

    static final FieldTable REDIRECT = FieldTable.builder("Answer with a redirect")
            .custom("status", 302, obj("enum", List.of(301, 302, 307, 308)), "Redirect status")
            .custom("to", null, obj("type", "string"), "Target; may use {scheme} {host} {path} {query} (required)")
            .build();

    static final FieldTable RESPOND = FieldTable.builder("Answer directly")
            .integer("status", 200, 200, 599, "Status")
            .custom("body", "", obj("type", "string"), "Body")
            .string("content-type", RouteAction.Respond.DEFAULT_CONTENT_TYPE, "Content-Type")
            .build();

    static final FieldTable HEADER_EDITS = FieldTable.builder("Remove, then set, then add; never framing headers")
            .custom("set", null, obj("type", "object", "additionalProperties", obj("type", "string")),
                    "Header name to value, replacing")
            .custom("add", null, obj("type", "object", "additionalProperties", obj("type", "string")),
                    "Header name to value, appended")
            .custom("remove", null, obj("type", "array", "items", headerSchema()), "Header names to remove")
            .build();

    static final FieldTable REWRITE = FieldTable.builder("Path rewrite, for routes with a path prefix to a pool")
            .bool("strip-prefix", false, "true: drop the matched prefix")
            .custom("replace-prefix", null, obj("type", "string", "pattern", "^/"), "Put this in place of the prefix")
            .build();

    static final FieldTable SPLIT_SHARE = FieldTable.builder("One pool of a split and its share")
            .requiredName("pool", "The pool (required)")
            .requiredInteger("weight", 0, RouteAction.Share.MAX_WEIGHT,
                    "Its share: weight / the sum of the weights (required; 0 sends it nothing)")
            .build();

    static final FieldTable COMPRESSION = FieldTable.builder("Compression of the route's responses, by Accept-Encoding")
            .custom("encodings", List.of("gzip"), obj("type", "array", "minItems", 1,
                    "items", obj("enum", CompressionSection.ENCODINGS)),
                    "Encodings offered, preferred first when the client's q-values tie: gzip, zstd")
            .custom("types", CompressionConfig.DEFAULT_TYPES, obj("type", "array", "minItems", 1,
                    "items", obj("type", "string", "pattern", "^[^/\\s]+/[^/\\s]+$")),
                    "Media types compressed (type/subtype, or type/*)")
            .integer("min-bytes", CompressionConfig.DEFAULT_MIN_BYTES, 0, Long.MAX_VALUE,
                    "A response whose Content-Length is below this goes as it came")
            .integer("gzip-level", CompressionConfig.DEFAULT_GZIP_LEVEL, 1, 9, "Deflate level: 1 fastest, 9 smallest")
            .build();

    static final FieldTable MIRROR = FieldTable.builder("A copy of a share of the route's requests to a shadow pool")
            .requiredName("pool", "The shadow pool (required); its answers are dropped")
            .custom("percent", MirrorConfig.DEFAULT_PERCENT, obj("type", "number", "minimum", 0, "maximum", 100),
                    "The share of the route's requests copied, 0-100, drawn per request")
            .integer("max-body-bytes", MirrorConfig.DEFAULT_MAX_BODY_BYTES, 0, Integer.MAX_VALUE,
                    "Requests with a longer body are not copied (counted as too-large)")
            .build();

    private RouteSchema() {
    }

    /** A header name: an RFC 9110 token. */
    static Map<String, Object> headerSchema() {
        return obj("type", "string", "pattern", "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$");
    }
}
