package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a route's {@code basic-auth} (with the users file it names, read now) and
 * {@code forward-auth}. Problems are reported through the {@link Mapper}, with the same paths,
 * line numbers and wording as every other section; a problem inside the users file names its line
 * there too. Stateless.
 */
final class AuthSection {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** A bcrypt hash in the modular crypt format: {@code $2a$}, {@code $2b$} or {@code $2y$}, cost, 53 characters. */
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}");

    private AuthSection() {
    }

    /** The route's optional {@code basic-auth}; {@code null} when absent or after reporting a problem. */
    static BasicAuthConfig basic(Mapper m, Section route) {
        Section s = m.optional(route, "basic-auth", AccessSchema.BASIC_AUTH);
        if (s == null || !(s.node instanceof org.yaml.snakeyaml.nodes.MappingNode)) {
            return null;
        }
        SectionValues v = m.read(s, AccessSchema.BASIC_AUTH);
        String realm = v.string("realm");
        Entry r = s.get("realm");
        if (r != null && (realm.indexOf('"') >= 0 || realm.indexOf('\\') >= 0 || !HeaderEditsSection.validValue(realm))) {
            m.problem(r.path(), r.value(), "not a valid realm: \"" + realm + "\" (expected: text without quotes,"
                    + " backslashes or control characters)");
            return null;
        }
        Entry f = s.get("users-file");
        if (f == null) {
            m.problem(s.child("users-file"), s.node, "required (expected: an htpasswd file of user:$2y$... lines)");
            return null;
        }
        String file = m.scalarText(f, "a file path");
        if (file == null) {
            return null;
        }
        Map<String, String> users = users(m, f, file);
        return users == null ? null : new BasicAuthConfig(realm, Path.of(file), users, v.bool("forward-authorization"));
    }

    /** The users of {@code file}, each line {@code name:bcrypt-hash}; {@code null} after reporting a problem. */
    private static Map<String, String> users(Mapper m, Entry at, String file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of(file));
        } catch (IOException | InvalidPathException | UncheckedIOException ex) {
            m.problem(at.path(), at.value(), "cannot read \"" + file + "\": " + ex.getMessage());
            return null;
        }
        Map<String, String> users = new HashMap<>();
        int before = m.problems.size();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String where = "line " + (i + 1) + " of \"" + file + "\": ";
            String name = colon < 0 ? "" : line.substring(0, colon);
            String hash = colon < 0 ? "" : line.substring(colon + 1);
            if (name.isEmpty() || !BCRYPT.matcher(hash).matches()) {
                // The hash is never repeated in the message: it would reach logs.
                m.problem(at.path(), at.value(), where + "not user:bcrypt-hash (expected: a line of `htpasswd -nbB"
                        + " user password`, a $2y$, $2b$ or $2a$ hash)");
            } else if (users.put(name, hash) != null) {
                m.problem(at.path(), at.value(), where + "user \"" + name + "\" is already named on an earlier line");
            }
        }
        if (m.problems.size() != before) {
            return null;
        }
        if (users.isEmpty()) {
            m.problem(at.path(), at.value(), "\"" + file + "\" names no user (expected: user:$2y$... lines)");
            return null;
        }
        return users;
    }

    /** The route's optional {@code forward-auth}; {@code null} when absent or after reporting a problem. */
    static ForwardAuthConfig forward(Mapper m, Section route) {
        Section s = m.optional(route, "forward-auth", AccessSchema.FORWARD_AUTH);
        if (s == null || !(s.node instanceof org.yaml.snakeyaml.nodes.MappingNode)) {
            return null;
        }
        int before = m.problems.size();
        SectionValues v = m.read(s, AccessSchema.FORWARD_AUTH);
        Entry u = s.get("url");
        if (u == null) {
            m.problem(s.child("url"), s.node, "required (expected: the auth service's URL, e.g. http://auth:9000/verify)");
            return null;
        }
        String url = m.scalarText(u, "an http:// URL");
        if (url == null) {
            return null;
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException ex) {
            uri = null;
        }
        if (uri == null || uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).equals("http")
                || uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
            m.problem(u.path(), u.value(), "not an auth service URL: \"" + url
                    + "\" (expected: http://host[:port][/path][?query], without user info or fragment)");
            return null;
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1)
                : uri.getHost();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        Duration timeout = v.duration("timeout");
        List<String> requestHeaders = AccessSection.tokens(m, s, "request-headers", "header name", false);
        List<String> responseHeaders = AccessSection.tokens(m, s, "response-headers", "header name", false);
        int unavailable = v.integer("unavailable-status");
        if (m.problems.size() != before) {
            return null;
        }
        return new ForwardAuthConfig(url, host, uri.getPort() < 0 ? 80 : uri.getPort(), target, timeout,
                requestHeaders, responseHeaders, unavailable);
    }
}
