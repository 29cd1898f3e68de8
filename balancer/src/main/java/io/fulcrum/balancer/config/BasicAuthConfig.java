package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A route's basic authentication (RFC 7617): the users of an htpasswd-style file, one
 * {@code name:$2y$...} line each (bcrypt hashes only), read at load and at every reload, and
 * again when the file changes. Immutable.
 *
 * @param realm the protection space named in {@code WWW-Authenticate}
 * @param usersFile where the users came from
 * @param users user name to bcrypt hash
 * @param forwardAuthorization whether the backend gets the client's {@code Authorization} header
 *     (by default it is removed once checked)
 */
public record BasicAuthConfig(String realm, Path usersFile, Map<String, String> users, boolean forwardAuthorization) {
    public BasicAuthConfig {
        requireNonNull(realm, "realm");
        requireNonNull(usersFile, "usersFile");
        users = Map.copyOf(requireNonNull(users, "users"));
    }

    /**
     * Names the users and a digest of their hashes, never the hashes themselves: this text reaches
     * the config's fingerprint ({@link BalancerConfig#hash()}) and logs.
     */
    @Override
    public String toString() {
        TreeMap<String, String> sorted = new TreeMap<>(users);
        String digest;
        try {
            digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(sorted.toString().getBytes(StandardCharsets.UTF_8)), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
        return "BasicAuthConfig[realm=" + realm + ", usersFile=" + usersFile + ", users=" + sorted.keySet()
                + ", hashes=" + digest + ", forwardAuthorization=" + forwardAuthorization + "]";
    }
}
