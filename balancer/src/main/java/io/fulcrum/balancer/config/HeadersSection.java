package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Section;
import java.util.Arrays;

/**
 * Reads the {@code headers} section: what becomes of the client-sent {@code Forwarded},
 * {@code X-Request-Id} and trace context. Stateless.
 */
final class HeadersSection {
    private HeadersSection() {
    }

    /** The optional {@code headers: { forwarded: drop, request-id: edges, trace-context: edges }}. */
    static HeadersConfig read(Mapper m, Section top) {
        SectionValues v = m.read(top, "headers", BalancerSchema.HEADERS);
        String forwarded = v.oneOf("forwarded");
        String requestId = v.oneOf("request-id");
        String traceContext = v.oneOf("trace-context");
        return new HeadersConfig(
                Arrays.stream(HeadersConfig.Forwarded.values()).filter(f -> f.yamlName().equals(forwarded))
                        .findFirst().orElse(HeadersConfig.DEFAULT.forwarded()),
                from(requestId, HeadersConfig.DEFAULT.requestId()),
                from(traceContext, HeadersConfig.DEFAULT.traceContext()));
    }

    private static HeadersConfig.From from(String yaml, HeadersConfig.From def) {
        return Arrays.stream(HeadersConfig.From.values()).filter(f -> f.yamlName().equals(yaml)).findFirst()
                .orElse(def);
    }
}
