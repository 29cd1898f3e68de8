package io.fulcrum.balancer.tls;

import io.fulcrum.balancer.config.CertificateCheck;
import io.fulcrum.balancer.config.TlsConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * The loader's check of a {@code tls} certificate: it reads the files and builds the server
 * context the listener would build, so that files that cannot serve are refused when the config is
 * read (at start, by {@code --check}, or by a reload that then keeps the old config). A problem of
 * the private key is named at {@code key}, any other at {@code cert}. Stateless and thread-safe.
 */
public final class TlsCertificateCheck implements CertificateCheck {
    /** The one check; it holds no state. */
    public static final TlsCertificateCheck INSTANCE = new TlsCertificateCheck();

    private TlsCertificateCheck() {
    }

    @Override
    public String fingerprint(Path chain, Path key) throws IOException {
        return TlsContexts.fingerprint(chain, key);
    }

    @Override
    public Unusable unusable(TlsConfig.Certificate certificate, List<String> protocols) {
        try {
            TlsContexts.server(certificate, protocols, true);
            return null;
        } catch (TlsContexts.KeyProblem e) {
            return new Unusable("key", "the key cannot be used: " + e.getMessage());
        } catch (SSLException | RuntimeException e) {
            return new Unusable("cert", "the certificates cannot be used: " + e.getMessage());
        }
    }
}
