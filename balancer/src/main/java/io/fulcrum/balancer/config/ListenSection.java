package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;

/**
 * Reads a listener ({@code listen}, {@code admin}'s address, {@code tls.listen}): a host name or
 * address and a port. Problems are reported through the {@link Mapper}, with the same paths, line
 * numbers and wording as every other section. Stateless.
 */
final class ListenSection {
    private ListenSection() {
    }

    /** A listener; {@code defaults} replaces the table's defaults when not null. */
    static ListenConfig read(Mapper m, SectionValues v, ListenConfig defaults) {
        String defaultHost = defaults == null ? (String) v.defaultValue("host") : defaults.host();
        String host = v.string("host", defaultHost);
        Entry h = v.section().get("host");
        if (h != null && !host.equals(defaultHost) && !HostSyntax.isValid(host)) {
            m.problem(h.path(), h.value(), "not a valid host name or address: \"" + host + "\"");
            host = defaultHost;
        }
        int port = defaults == null ? v.integer("port") : v.integer("port", defaults.port());
        return new ListenConfig(host, port);
    }
}
