package io.fulcrum.balancer.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;

/**
 * The certificate a client presented on a TLS connection, verified by the handshake against the
 * listener's client CA (a certificate that does not verify fails the handshake), as header values:
 * the subject (RFC 4514), the subject alternative names ({@code DNS:a.example, IP:10.0.0.1,
 * email:a@example.com, URI:spiffe://...}, comma separated) and the SHA-256 of the DER form in
 * lower-case hex. Characters outside printable ASCII are percent-encoded (UTF-8), so every value
 * is a valid field value. Immutable.
 */
public record ClientCertificate(String subject, String sans, String fingerprint) {
    private static final String[] SAN_TYPES = {"otherName", "email", "DNS", "x400", "dirName", "ediParty", "URI", "IP",
        "RID"};

    /** The verified certificate of {@code ch}'s TLS session, or {@code null} when it has none (or no TLS). */
    public static ClientCertificate of(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (tls == null) {
            return null;
        }
        SSLEngine engine = tls.engine();
        if (!engine.getNeedClientAuth() && !engine.getWantClientAuth()) {
            // The listener asks for no certificate (client-certificates: off): none to read, and
            // asking the session would throw (and fill a stack trace) on every connection.
            return null;
        }
        Certificate[] chain;
        try {
            chain = engine.getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        return chain.length == 0 || !(chain[0] instanceof X509Certificate leaf) ? null : of(leaf);
    }

    /** The header values of {@code leaf}. */
    static ClientCertificate of(X509Certificate leaf) {
        return new ClientCertificate(printable(leaf.getSubjectX500Principal().getName(X500Principal.RFC2253)),
                printable(sans(leaf)), fingerprint(leaf));
    }

    private static String sans(X509Certificate leaf) {
        Collection<List<?>> names;
        try {
            names = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return "";
        }
        if (names == null) {
            return "";
        }
        List<String> out = new ArrayList<>();
        for (List<?> name : names) {
            int type = (Integer) name.get(0);
            if (name.get(1) instanceof String value && type < SAN_TYPES.length) {
                out.add(SAN_TYPES[type] + ":" + value);
            }
        }
        return String.join(", ", out);
    }

    private static String fingerprint(X509Certificate leaf) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("a verified certificate has a DER form, and SHA-256 is in every JDK", e);
        }
    }

    /** {@code text} with every character outside printable ASCII, and {@code %}, percent-encoded. */
    static String printable(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '%') {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            int end = Character.isHighSurrogate(c) && i + 1 < text.length() ? i + 2 : i + 1;
            for (byte b : text.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                out.append('%').append(HexFormat.of().withUpperCase().toHexDigits(b));
            }
            i = end - 1;
        }
        return out == null ? text : out.toString();
    }
}
