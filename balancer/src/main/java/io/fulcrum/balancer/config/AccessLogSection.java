package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Reads the access log's two top-level keys: where it goes ({@code access-log}) and its format
 * ({@code access-log-format}). Problems are reported through the {@link Mapper}, with the same
 * paths, line numbers and wording as every other section. Stateless.
 */
final class AccessLogSection {
    private AccessLogSection() {
    }

    /**
     * {@code access-log}: {@code stdout} (the default), {@code off} or a file path. YAML's
     * {@code false} reads as {@code off}: a file named "false" is never what was meant.
     */
    static String read(Mapper m, Section top) {
        String value = m.string(top, "access-log", ConfigLoader.DEFAULT_ACCESS_LOG);
        if (value.equals("false")) {
            return "off";
        }
        Entry e = top.get("access-log");
        if (e != null && !value.equals("stdout") && !value.equals("off")) {
            try {
                Path.of(value);
            } catch (InvalidPathException ex) {
                m.problem(e.path(), e.value(), "not a valid file path: \"" + value
                        + "\" (expected: stdout, off or a file path)");
                return ConfigLoader.DEFAULT_ACCESS_LOG;
            }
        }
        return value;
    }

    /** {@code access-log-format}: {@code json} (the default) or {@code logfmt}. */
    static String format(Mapper m, Section top) {
        SectionValues v = m.read(top, BalancerSchema.FILE);
        return v.oneOf("access-log-format", (String) v.defaultValue("access-log-format"), "format");
    }
}
