package io.fulcrum.balancer.route;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A redirect's {@code to}, split once into literal text and placeholders:
 * <ul>
 *   <li>{@code {scheme}}: {@code http} or {@code https}, as the client connected;
 *   <li>{@code {host}}: the host the client asked for, as it sent it (port included);
 *   <li>{@code {path}}: the path of the request target, without the query;
 *   <li>{@code {query}}: the query with its leading {@code ?}, or nothing when there is none.
 * </ul>
 * Immutable and thread-safe.
 */
final class RedirectTemplate {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(scheme|host|path|query)\\}");

    /** Literal strings and placeholder names, alternating kinds as they come. */
    private final String[] parts;
    private final boolean[] placeholder;

    RedirectTemplate(String template) {
        List<String> p = new ArrayList<>();
        List<Boolean> ph = new ArrayList<>();
        Matcher m = PLACEHOLDER.matcher(template);
        int at = 0;
        while (m.find()) {
            if (m.start() > at) {
                p.add(template.substring(at, m.start()));
                ph.add(false);
            }
            p.add(m.group(1));
            ph.add(true);
            at = m.end();
        }
        if (at < template.length()) {
            p.add(template.substring(at));
            ph.add(false);
        }
        parts = p.toArray(String[]::new);
        placeholder = new boolean[ph.size()];
        for (int i = 0; i < placeholder.length; i++) {
            placeholder[i] = ph.get(i);
        }
    }

    String expand(String scheme, String host, String target) {
        StringBuilder out = new StringBuilder(64);
        int start = RequestTarget.pathStart(target);
        int end = start < 0 ? -1 : RequestTarget.pathEnd(target, start);
        for (int i = 0; i < parts.length; i++) {
            if (!placeholder[i]) {
                out.append(parts[i]);
                continue;
            }
            switch (parts[i]) {
                case "scheme" -> out.append(scheme);
                case "host" -> out.append(host == null ? "" : host);
                case "path" -> {
                    if (start < 0) {
                        out.append('/');
                    } else {
                        out.append(target, start, end);
                    }
                }
                default -> {
                    if (start >= 0 && end < target.length() && target.charAt(end) == '?') {
                        int q = target.indexOf('#', end);
                        out.append(target, end, q < 0 ? target.length() : q);
                    } else if (start < 0) {
                        int q = target.indexOf('?');
                        if (q >= 0) {
                            int f = target.indexOf('#', q);
                            out.append(target, q, f < 0 ? target.length() : f);
                        }
                    }
                }
            }
        }
        return out.toString();
    }
}
