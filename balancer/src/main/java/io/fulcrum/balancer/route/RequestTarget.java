package io.fulcrum.balancer.route;

/**
 * Finds the parts of a request target (RFC 9112 section 3.2) in place, without building strings.
 * Stateless.
 */
final class RequestTarget {
    private RequestTarget() {
    }

    /**
     * Where the path starts: 0 for origin form ({@code /a?b}); after the authority for absolute
     * form ({@code http://host/a}); -1 when there is no path (asterisk or authority form, or an
     * absolute form with nothing after the authority, whose path is then empty).
     */
    static int pathStart(String target) {
        if (!target.isEmpty() && target.charAt(0) == '/') {
            return 0;
        }
        int scheme = target.indexOf("://");
        if (scheme <= 0) {
            return -1;
        }
        return target.indexOf('/', scheme + 3);
    }

    /** Where the path ends: at the query's {@code ?}, a fragment's {@code #}, or the end. */
    static int pathEnd(String target, int start) {
        for (int i = start; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return target.length();
    }

    /**
     * Where the authority of an absolute-form target starts, or -1 for other forms. Its end is
     * {@link #pathStart}, or the query, or the end of the target.
     */
    static int authorityStart(String target) {
        if (target.isEmpty() || target.charAt(0) == '/') {
            return -1;
        }
        int scheme = target.indexOf("://");
        return scheme <= 0 ? -1 : scheme + 3;
    }

    /** The end of the authority starting at {@code start}. */
    static int authorityEnd(String target, int start) {
        for (int i = start; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                return i;
            }
        }
        return target.length();
    }

    /**
     * The end of the host name in {@code s[start, end)}: before a {@code :port}, and after a
     * bracketed IPv6 literal; a userinfo is not expected (RFC 9110 section 4.2.4 forbids it).
     */
    static int hostEnd(CharSequence s, int start, int end) {
        if (start < end && s.charAt(start) == '[') {
            for (int i = start; i < end; i++) {
                if (s.charAt(i) == ']') {
                    return i + 1;
                }
            }
            return end;
        }
        int e = end;
        for (int i = start; i < end; i++) {
            if (s.charAt(i) == ':') {
                e = i;
                break;
            }
        }
        // A fully qualified name's trailing dot names the same host (RFC 1034 section 3.1).
        if (e > start && s.charAt(e - 1) == '.') {
            return e - 1;
        }
        return e;
    }
}
