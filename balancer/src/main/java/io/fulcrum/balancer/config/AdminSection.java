package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Reads what the {@code admin} section holds besides its listener, which is read as every listener
 * is: the token of the state-changing endpoints ({@code admin.token}, {@code admin.token-file}).
 * Problems are reported through the {@link Mapper}, with the same paths, line numbers and wording as
 * every other section. Stateless.
 */
final class AdminSection {
    private AdminSection() {
    }

    /** {@code admin.token} or {@code admin.token-file} (read now; surrounding white space dropped). */
    static AdminTokenConfig token(Mapper m, Section admin) {
        Entry t = admin.get("token");
        Entry f = admin.get("token-file");
        if (t != null && f != null) {
            m.problem(f.path(), f.value(), "set either admin.token or admin.token-file, not both");
            return AdminTokenConfig.NONE;
        }
        if (t != null) {
            String token = m.scalarText(t, "a token");
            if (token == null) {
                return AdminTokenConfig.NONE;
            }
            if (token.strip().length() < 16) {
                m.problem(t.path(), t.value(), "too short (expected: at least 16 characters)");
                return AdminTokenConfig.NONE;
            }
            return new AdminTokenConfig(token.strip(), "admin.token");
        }
        if (f != null) {
            String file = m.scalarText(f, "a file path");
            if (file == null) {
                return AdminTokenConfig.NONE;
            }
            String token;
            try {
                token = Files.readString(Path.of(file)).strip();
            } catch (IOException | InvalidPathException | UncheckedIOException ex) {
                m.problem(f.path(), f.value(), "cannot read \"" + file + "\": " + ex.getMessage());
                return AdminTokenConfig.NONE;
            }
            if (token.length() < 16) {
                m.problem(f.path(), f.value(), "the token in \"" + file + "\" is too short (expected: at least 16 characters)");
                return AdminTokenConfig.NONE;
            }
            return new AdminTokenConfig(token, file);
        }
        return AdminTokenConfig.NONE;
    }
}
