package io.fulcrum.node.http;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Conditional GET (RFC 9110 section 13.1.2): whether an {@code If-None-Match} header names the
 * current representation, and entity tags for answers that have no version of their own.
 *
 * <p>Stateless and thread-safe; no I/O.
 */
public final class Conditional {
    private Conditional() {
    }

    /**
     * Whether {@code ifNoneMatch} (the header's value, or null when absent) matches {@code etag}, so
     * that a GET or HEAD is answered 304. The comparison is weak, as RFC 9110 section 13.1.2 requires
     * for If-None-Match: {@code W/"2"} matches {@code "2"}. {@code *} matches any current representation.
     */
    public static boolean notModified(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null || etag == null) {
            return false;
        }
        String current = opaque(etag.trim());
        for (String candidate : ifNoneMatch.split(",")) {
            String tag = candidate.trim();
            if (tag.equals("*") || (!tag.isEmpty() && opaque(tag).equals(current))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A strong entity tag for a response body that has no version, such as a timeline page: a digest
     * of the bytes, so that an unchanged page has the same tag on every node.
     */
    public static String etagOf(byte[] body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            // 16 bytes of SHA-256 are plenty to tell two pages apart.
            return "\"" + HexFormat.of().formatHex(digest, 0, 16) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** The quoted part of a tag, without a weakness prefix. */
    private static String opaque(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }
}
