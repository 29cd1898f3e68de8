package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.BalancerSchema.obj;
import static io.fulcrum.balancer.config.BalancerSchema.yamlNames;

import io.fulcrum.config.Field.Reload;
import io.fulcrum.config.FieldTable;
import java.util.List;
import java.util.Map;

/**
 * The keys of {@code tls} and {@code backend-tls}, declared as {@link BalancerSchema} declares the
 * rest of the file (whose top-level table names these). Immutable and thread-safe.
 */
final class TlsSchema {
    static final FieldTable SNI = FieldTable.builder("A certificate chosen by requested server name")
            .custom("names", null, obj("type", "array", "minItems", 1, "items", obj("type", "string")),
                    "Server names such as api.example.com or *.example.org (required)")
            .custom("cert", null, obj("type", "string"), "PEM chain, leaf first (required)")
            .custom("key", null, obj("type", "string"), "PKCS#8 PEM private key of the leaf (required)")
            .build();

    static final FieldTable CLIENT_CERTIFICATE_HEADERS = FieldTable.builder(
            "Request headers carrying a verified client certificate to the backends; removed from every request")
            .custom("subject", ClientCertificatesConfig.DEFAULT_SUBJECT_HEADER, nullableHeader(),
                    "The subject (RFC 4514); null: not sent")
            .custom("sans", ClientCertificatesConfig.DEFAULT_SANS_HEADER, nullableHeader(),
                    "The subject alternative names (DNS:..., IP:..., email:..., URI:...); null: not sent")
            .custom("fingerprint", ClientCertificatesConfig.DEFAULT_FINGERPRINT_HEADER, nullableHeader(),
                    "SHA-256 of the certificate (DER), lower-case hex; null: not sent")
            .build();

    static final FieldTable TLS = FieldTable.builder("A second traffic port speaking HTTPS")
            .section("listen", BalancerSchema.LISTEN, "The HTTPS listener (required); not the same port as listen")
            .custom("cert", null, obj("type", "string"), "PEM chain, leaf first (required); re-read on reload")
            .custom("key", null, obj("type", "string"), "PKCS#8 PEM private key of the leaf (required)")
            .sections("sni", SNI, "Certificates by requested server name")
            .custom("protocols", TlsConfig.DEFAULT_PROTOCOLS, obj("type", "array", "minItems", 1,
                    "items", obj("enum", TlsConfig.DEFAULT_PROTOCOLS)), "TLS versions, a subset of TLSv1.3 and TLSv1.2")
            .oneOf("client-certificates", ClientCertificatesConfig.Mode.OFF.yamlName(),
                    yamlNames(ClientCertificatesConfig.Mode.values(), ClientCertificatesConfig.Mode::yamlName),
                    "Ask clients for a certificate: off, optional, or required (mutual TLS)")
            .custom("client-ca-file", null, obj("type", List.of("string", "null")),
                    "PEM CA certificates a client's certificate must chain to (required unless off); re-read on reload")
            .section("client-certificate-headers", CLIENT_CERTIFICATE_HEADERS,
                    "Where a verified client certificate goes to the backends")
            .reload(Reload.RESTART)
            .bool("ocsp-stapling", true,
                    "Fetch OCSP responses from the certificates' responders and staple them (BoringSSL only)")
            .build();

    static final FieldTable BACKEND_TLS = FieldTable.builder("For https:// backends")
            .reload(Reload.RESTART)
            .custom("ca-file", null, obj("type", List.of("string", "null")),
                    "A PEM file of the CA certificates to trust (default: the JDK's trust store)")
            .custom("cert", null, obj("type", List.of("string", "null")),
                    "PEM chain of a client certificate for backends that ask for one (default: none); with key")
            .custom("key", null, obj("type", List.of("string", "null")), "PKCS#8 PEM private key of cert")
            .build();

    private TlsSchema() {
    }

    /** A header name, or null for none. */
    private static Map<String, Object> nullableHeader() {
        Map<String, Object> schema = new java.util.LinkedHashMap<>(BalancerSchema.headerSchema());
        schema.put("type", List.of("string", "null"));
        return schema;
    }
}
