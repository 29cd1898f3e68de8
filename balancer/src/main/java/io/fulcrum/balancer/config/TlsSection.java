package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The {@code tls} section (the HTTPS listener, its certificates and SNI names) and the readable
 * files it and {@code backend-tls} name. Problems are reported through the {@link Mapper}, with
 * the same paths, line numbers and wording as every other section; whether a certificate can
 * serve is the TLS engine's word, asked through the mapper's {@link CertificateCheck}.
 */
final class TlsSection {

    private TlsSection() {
    }

    /**
     * The optional {@code tls} section: an HTTPS listener with its certificates. Each chain and
     * key is loaded here, so a file that is missing or not a valid certificate and key is a
     * problem of the config (and a reload with it is refused while the old one keeps serving).
     */
    static TlsConfig read(Mapper m, Section top, ListenConfig traffic) {
        Entry e = top.get("tls");
        if (e == null || Mapper.isNull(e.value())) {
            return null;
        }
        Section s = m.subsection(top, "tls", TlsSchema.TLS);
        ListenConfig listen = ListenSection.read(m, m.read(s, "listen", BalancerSchema.LISTEN), new ListenConfig(traffic.host(), 8443));
        if (s.get("listen") == null) {
            m.problem(s.child("listen"), e.value(), "required (expected: { host: ..., port: 8443 })");
        } else if (listen.port() != 0 && listen.port() == traffic.port()) {
            m.problem(s.child("listen.port"), s.get("listen").value(), "the same port as listen.port: TLS needs a port of its own");
        }
        List<String> protocols = TlsConfig.DEFAULT_PROTOCOLS;
        Entry pe = s.get("protocols");
        if (pe != null && m.checkTag(pe.path(), pe.value()) && !Mapper.isNull(pe.value())) {
            if (!(pe.value() instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
                m.problem(pe.path(), pe.value(), "expected a list of TLS versions (TLSv1.3, TLSv1.2)");
            } else {
                protocols = new ArrayList<>();
                for (int i = 0; i < seq.getValue().size(); i++) {
                    Entry item = new Entry(pe.path() + "[" + i + "]", pe.key(), seq.getValue().get(i));
                    String text = m.scalarText(item, "a TLS version");
                    if (text != null && !TlsConfig.DEFAULT_PROTOCOLS.contains(text)) {
                        m.problem(item.path(), item.value(), "unsupported TLS version \"" + text
                                + "\" (expected: TLSv1.3 or TLSv1.2)" + YamlMapper.hint(text, TlsConfig.DEFAULT_PROTOCOLS));
                    } else if (text != null && !protocols.contains(text)) {
                        protocols.add(text);
                    }
                }
            }
        }
        if (m.certificates == null) {
            m.problem(e.path(), e.key(), "cannot be checked by this loader (expected: one given the TLS engine's"
                    + " certificate check)");
            return null;
        }
        TlsConfig.Certificate certificate = certificate(m, s, e);
        List<TlsConfig.SniCertificate> sni = new ArrayList<>();
        List<Section> sniSections = new ArrayList<>();
        Entry se = s.get("sni");
        if (se != null && m.checkTag(se.path(), se.value()) && !Mapper.isNull(se.value())) {
            if (!(se.value() instanceof SequenceNode seq)) {
                m.problem(se.path(), se.value(), "expected a list of { names: [...], cert: ..., key: ... }");
            } else {
                for (int i = 0; i < seq.getValue().size(); i++) {
                    Node item = seq.getValue().get(i);
                    String path = se.path() + "[" + i + "]";
                    Section is = m.section(item, path, TlsSchema.SNI);
                    if (is == null) {
                        continue;
                    }
                    List<String> names = serverNames(m, is, item);
                    TlsConfig.Certificate c = certificate(m, is, new Entry(path, se.key(), item));
                    if (!names.isEmpty() && c != null) {
                        sni.add(new TlsConfig.SniCertificate(names, c));
                        sniSections.add(is);
                    }
                }
            }
        }
        if (certificate == null || m.hasProblems()) {
            return null;
        }
        // Each certificate's context is built here once, so that files that cannot be used are a
        // problem of the config, named by the field at fault.
        boolean usable = usable(m, s, certificate, protocols);
        for (int i = 0; i < sni.size(); i++) {
            usable &= usable(m, sniSections.get(i), sni.get(i).certificate(), protocols);
        }
        ClientCertificatesConfig clients = clientCertificates(m, s);
        return usable && clients != null ? new TlsConfig(listen, certificate, sni, protocols, clients,
                m.bool(s, "ocsp-stapling", true)) : null;
    }

    /**
     * {@code client-certificates}, {@code client-ca-file} (a PEM file of at least one certificate,
     * required unless off) and {@code client-certificate-headers}; {@code null} after a problem.
     */
    private static ClientCertificatesConfig clientCertificates(Mapper m, Section s) {
        SectionValues v = m.read(s, TlsSchema.TLS);
        String modeText = v.oneOf("client-certificates");
        ClientCertificatesConfig.Mode mode = ClientCertificatesConfig.Mode.valueOf(modeText.toUpperCase(Locale.ROOT));
        Entry ca = s.get("client-ca-file");
        if (mode == ClientCertificatesConfig.Mode.OFF) {
            return ClientCertificatesConfig.OFF;
        }
        if (ca == null || Mapper.isNull(ca.value())) {
            m.problem(s.child("client-ca-file"), s.get("client-certificates").value(), "required when client-certificates is "
                    + modeText + " (expected: a PEM file with the CA certificates of the clients)");
            return null;
        }
        Path caFile = readableFile(m, s, "client-ca-file", ca, "a PEM file with the CA certificates of the clients");
        if (caFile == null) {
            return null;
        }
        String digest;
        try {
            byte[] pem = Files.readAllBytes(caFile);
            if (java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(new java.io.ByteArrayInputStream(pem)).isEmpty()) {
                throw new java.security.cert.CertificateException("no certificate in it");
            }
            digest = ClientCertificatesConfig.digest(pem);
        } catch (IOException | java.security.GeneralSecurityException e) {
            m.problem(ca.path(), ca.value(), "not a PEM file of CA certificates: " + e.getMessage());
            return null;
        }
        SectionValues h = m.read(s, "client-certificate-headers", TlsSchema.CLIENT_CERTIFICATE_HEADERS);
        String subject = header(m, h, "subject");
        String sans = header(m, h, "sans");
        String fingerprint = header(m, h, "fingerprint");
        return new ClientCertificatesConfig(mode, caFile, digest, subject, sans, fingerprint);
    }

    /** A header name of {@code client-certificate-headers}, its default when absent, {@code null} when null. */
    private static String header(Mapper m, SectionValues h, String key) {
        Entry e = h.section().get(key);
        if (e == null) {
            return (String) h.defaultValue(key);
        }
        if (Mapper.isNull(e.value())) {
            return null;
        }
        String name = m.scalarText(e, "a header name");
        if (name != null && !ConfigLoader.TOKEN.matcher(name).matches()) {
            m.problem(e.path(), e.value(), "not a valid header name: \"" + name + "\" (expected: an RFC 9110 token)");
            return null;
        }
        return name;
    }

    /** Whether a context can be built of {@code c}; else a problem at {@code key} or {@code cert}. */
    static boolean usable(Mapper m, Section s, TlsConfig.Certificate c, List<String> protocols) {
        CertificateCheck.Unusable why = m.certificates.unusable(c, protocols);
        if (why != null) {
            m.problem(s.child(why.field()), s.get(why.field()).value(), why.message());
        }
        return why == null;
    }

    private static List<String> serverNames(Mapper m, Section s, Node at) {
        Entry n = s.get("names");
        List<String> names = new ArrayList<>();
        if (n == null) {
            m.problem(s.child("names"), at, "required (expected: a list of server names such as api.example.com or *.example.com)");
            return names;
        }
        if (!m.checkTag(n.path(), n.value()) || !(n.value() instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            m.problem(n.path(), n.value(), "expected a list of server names");
            return names;
        }
        for (int i = 0; i < seq.getValue().size(); i++) {
            Entry item = new Entry(n.path() + "[" + i + "]", n.key(), seq.getValue().get(i));
            String text = m.scalarText(item, "a server name");
            if (text == null) {
                continue;
            }
            String host = text.startsWith("*.") ? text.substring(2) : text;
            if (!HostSyntax.isValid(host) || host.contains(":")) {
                m.problem(item.path(), item.value(), "not a valid server name: \"" + text + "\"");
            } else {
                names.add(text.toLowerCase(Locale.ROOT));
            }
        }
        return names;
    }

    /** {@code cert} and {@code key} of a section: readable PEM files, fingerprinted. */
    static TlsConfig.Certificate certificate(Mapper m, Section s, Entry at) {
        Path chain = readableFile(m, s, "cert", at, "a PEM file with the certificate chain");
        Path key = readableFile(m, s, "key", at, "a PEM file with the private key (PKCS#8)");
        if (chain == null || key == null) {
            return null;
        }
        try {
            return new TlsConfig.Certificate(chain, key, m.certificates.fingerprint(chain, key));
        } catch (IOException ex) {
            m.problem(s.child("cert"), s.get("cert").value(), "cannot read: " + ex.getMessage());
            return null;
        }
    }

    static Path readableFile(Mapper m, Section s, String key, Entry parent, String expected) {
        Entry e = s.get(key);
        if (e == null) {
            m.problem(s.child(key), parent.value(), "required (expected: " + expected + ")");
            return null;
        }
        String text = m.scalarText(e, expected);
        if (text == null) {
            return null;
        }
        try {
            Path p = Path.of(text);
            if (!Files.isReadable(p) || Files.isDirectory(p)) {
                m.problem(e.path(), e.value(), "cannot read \"" + text + "\" (expected: " + expected + ")");
                return null;
            }
            return p;
        } catch (InvalidPathException ex) {
            m.problem(e.path(), e.value(), "not a valid file path: \"" + text + "\"");
            return null;
        }
    }
}
