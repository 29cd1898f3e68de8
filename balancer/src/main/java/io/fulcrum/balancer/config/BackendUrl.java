package io.fulcrum.balancer.config;

import java.util.Locale;

/**
 * A backend URL as the config accepts it: {@code http://host[:port]} or {@code https://host[:port]}
 * with an optional trailing {@code /} and nothing else. A path, query or user info would be
 * silently ignored by the proxy, so they are rejected instead. Immutable and thread-safe.
 *
 * @param host host name or address, IPv6 without brackets
 * @param port the URL's port, 80 (http) or 443 (https) when it names none
 * @param tls whether the backend is reached over TLS ({@code https})
 */
record BackendUrl(String host, int port, boolean tls) {

    /** Why a URL was rejected; the message completes {@code "backends[i].url: "}. */
    static final class InvalidUrlException extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidUrlException(String message) {
            super(message, null, false, false);
        }
    }

    static BackendUrl parse(String url) throws InvalidUrlException {
        int schemeEnd = url.indexOf("://");
        String expected = "(expected: http://host[:port] or https://host[:port])";
        if (schemeEnd < 0) {
            throw new InvalidUrlException("not an http URL: \"" + url + "\" " + expected);
        }
        String scheme = url.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        boolean tls = scheme.equals("https");
        if (!tls && !scheme.equals("http")) {
            throw new InvalidUrlException("not an http URL: \"" + url + "\" " + expected);
        }
        String rest = url.substring(schemeEnd + 3);
        int end = indexOfAny(rest, "/?#");
        String authority = end < 0 ? rest : rest.substring(0, end);
        String tail = end < 0 ? "" : rest.substring(end);
        if (tail.startsWith("?")) {
            throw new InvalidUrlException("a backend URL has no query: \"" + url + "\" " + expected);
        }
        if (tail.startsWith("#")) {
            throw new InvalidUrlException("a backend URL has no fragment: \"" + url + "\" " + expected);
        }
        if (!tail.isEmpty() && !tail.equals("/")) {
            throw new InvalidUrlException("a backend URL has no path: \"" + url + "\" " + expected);
        }
        if (authority.indexOf('@') >= 0) {
            throw new InvalidUrlException("a backend URL has no user info: \"" + url + "\" " + expected);
        }
        String host;
        String portText = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw new InvalidUrlException("not an http URL: \"" + url + "\" " + expected);
            }
            host = authority.substring(1, close);
            String after = authority.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw new InvalidUrlException("not an http URL: \"" + url + "\" " + expected);
                }
                portText = after.substring(1);
            }
            if (!HostSyntax.isIpv6(host)) {
                throw new InvalidUrlException("not a valid IPv6 address: \"" + host + "\" in \"" + url + "\"");
            }
        } else {
            int colon = authority.indexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            portText = colon < 0 ? null : authority.substring(colon + 1);
            if (host.isEmpty()) {
                throw new InvalidUrlException("a backend URL needs a host: \"" + url + "\" " + expected);
            }
            if (!HostSyntax.isValid(host)) {
                throw new InvalidUrlException("not a valid host name or address: \"" + host + "\" in \"" + url + "\"");
            }
        }
        int port = tls ? 443 : 80;
        if (portText != null) {
            if (!portText.matches("[0-9]{1,5}")) {
                throw new InvalidUrlException("not a valid port: \"" + portText + "\" in \"" + url + "\" (expected: 1-65535)");
            }
            port = Integer.parseInt(portText);
            if (port < 1 || port > 65535) {
                throw new InvalidUrlException("port: " + port + " in \"" + url + "\" (expected: 1-65535)");
            }
        }
        return new BackendUrl(host, port, tls);
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }
}
