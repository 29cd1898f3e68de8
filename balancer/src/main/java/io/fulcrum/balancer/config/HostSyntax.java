package io.fulcrum.balancer.config;

import java.util.regex.Pattern;

/**
 * Syntax checks for host names and addresses (RFC 1123 names, dotted IPv4, RFC 4291 IPv6 text).
 * Purely syntactic: nothing is resolved, so loading a config never waits on DNS. Stateless and
 * thread-safe.
 */
final class HostSyntax {
    private static final Pattern NAME = Pattern.compile(
            "(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");
    private static final Pattern IPV4 = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    private static final Pattern HEX_GROUP = Pattern.compile("[0-9A-Fa-f]{1,4}");
    private static final Pattern ALL_DIGITS_AND_DOTS = Pattern.compile("[0-9.]+");

    private HostSyntax() {
    }

    /** Whether {@code host} is a host name, an IPv4 address or an IPv6 address (without brackets). */
    static boolean isValid(String host) {
        if (host.indexOf(':') >= 0) {
            return isIpv6(host);
        }
        if (ALL_DIGITS_AND_DOTS.matcher(host).matches()) {
            // All-numeric names are not host names (RFC 1123 section 2.1); they must be real IPv4.
            return IPV4.matcher(host).matches();
        }
        return NAME.matcher(host).matches();
    }

    static boolean isIpv6(String s) {
        int doubleColon = s.indexOf("::");
        if (doubleColon >= 0 && s.indexOf("::", doubleColon + 1) >= 0) {
            return false;
        }
        String[] parts = s.split(":", -1);
        int groups = 0;
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.isEmpty()) {
                continue; // part of "::" (checked above) or a leading/trailing colon (checked below)
            }
            if (i == parts.length - 1 && p.indexOf('.') >= 0) {
                if (!IPV4.matcher(p).matches()) {
                    return false;
                }
                groups += 2;
            } else if (HEX_GROUP.matcher(p).matches()) {
                groups++;
            } else {
                return false;
            }
        }
        if (s.startsWith(":") && !s.startsWith("::") || s.endsWith(":") && !s.endsWith("::")) {
            return false;
        }
        return doubleColon >= 0 ? groups <= 7 : groups == 8;
    }
}
