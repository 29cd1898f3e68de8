package io.fulcrum.balancer.tls;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.TlsConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OCSP staples for the HTTPS listener's certificates: for each certificate whose leaf names an
 * OCSP responder (its Authority Information Access), the response is fetched over HTTP from a
 * background thread (the JDK's client, asynchronously; never on an event loop), checked (signed by
 * the issuer or a responder the issuer delegated to, about this certificate, not expired), kept
 * until halfway to its {@code nextUpdate}, then fetched again. A responder that does not answer
 * leaves the last good response in force until its {@code nextUpdate}, and is asked again after a
 * growing pause (1 to 10 minutes); handshakes meanwhile go on without a staple. Certificates whose
 * chain lacks the issuer, or whose leaf names no responder, are never stapled.
 *
 * <p>Thread-safe: staples are read by event loops, written by the scheduler's thread.
 */
public final class OcspStapler {
    private static final Logger log = LoggerFactory.getLogger(OcspStapler.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MIN_REFRESH = Duration.ofMinutes(1);
    private static final Duration MAX_RETRY = Duration.ofMinutes(10);
    /** How long a response without {@code nextUpdate} is used before it is fetched again. */
    private static final Duration NO_NEXT_UPDATE = Duration.ofHours(1);
    /** Clocks disagree: a response a little ahead of ours is still taken. */
    private static final Duration SKEW = Duration.ofMinutes(5);

    private final ScheduledExecutorService scheduler;
    private final HttpClient http;
    private final Clock clock;
    /** By the certificate files' fingerprint, so that a reload keeps the staples of unchanged ones. */
    private final Map<String, Staple> staples = new ConcurrentHashMap<>();
    private final LongAdder fetched = new LongAdder();
    private final LongAdder failed = new LongAdder();

    /** @param scheduler the thread that fetches, parses and schedules; also runs the HTTP client's callbacks */
    public OcspStapler(ScheduledExecutorService scheduler) {
        this(scheduler, Clock.systemUTC());
    }

    OcspStapler(ScheduledExecutorService scheduler, Clock clock) {
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.clock = requireNonNull(clock, "clock");
        // HTTP/1.1: responders are small HTTP servers, and an h2c upgrade offer confuses some (openssl ocsp).
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(scheduler).connectTimeout(TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Staples the certificates of {@code tls} from now on: new ones are fetched, gone ones forgotten. */
    public void track(TlsConfig tls) {
        Set<String> current = new HashSet<>();
        for (TlsConfig.Certificate c : tls.certificates()) {
            current.add(c.fingerprint());
            staples.computeIfAbsent(c.fingerprint(), k -> {
                Staple s = Staple.of(c);
                if (s != null) {
                    scheduler.execute(() -> fetch(s));
                }
                return s == null ? Staple.NONE : s;
            });
        }
        staples.entrySet().removeIf(e -> {
            if (!current.contains(e.getKey())) {
                e.getValue().cancel();
                return true;
            }
            return false;
        });
    }

    /** The DER OCSP response to staple for {@code certificate}, or {@code null} when none is valid now. */
    public byte[] staple(TlsConfig.Certificate certificate) {
        Staple s = staples.get(certificate.fingerprint());
        return s == null ? null : s.current(clock.instant());
    }

    /** Responses fetched and taken so far. */
    public long fetched() {
        return fetched.sum();
    }

    /** Fetches that failed so far (no answer, an error status, or a response that did not check). */
    public long failed() {
        return failed.sum();
    }

    /** Certificates with a valid staple now. */
    public int stapled() {
        Instant now = clock.instant();
        return (int) staples.values().stream().filter(s -> s.current(now) != null).count();
    }

    /** Stops every scheduled fetch. */
    public void close() {
        staples.values().forEach(Staple::cancel);
        staples.clear();
    }

    private void fetch(Staple s) {
        if (s.cancelled) {
            return;
        }
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(s.responder).timeout(TIMEOUT)
                    .header("Content-Type", "application/ocsp-request").header("Accept", "application/ocsp-response")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new OCSPReqBuilder().addRequest(s.id).build()
                            .getEncoded())).build();
        } catch (OCSPException | IOException | IllegalArgumentException e) {
            failed(s, "cannot make the request: " + e.getMessage());
            return;
        }
        http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenCompleteAsync((r, error) -> {
            if (error != null) {
                failed(s, "no answer: " + error);
            } else if (r.statusCode() != 200) {
                failed(s, "HTTP " + r.statusCode());
            } else {
                taken(s, r.body());
            }
        }, scheduler);
    }

    /** Checks a response and staples it, or counts the failure. Runs on the scheduler's thread. */
    private void taken(Staple s, byte[] der) {
        Instant now = clock.instant();
        SingleResp single;
        try {
            OCSPResp response = new OCSPResp(der);
            if (response.getStatus() != OCSPResp.SUCCESSFUL) {
                failed(s, "the responder answered status " + response.getStatus());
                return;
            }
            BasicOCSPResp basic = (BasicOCSPResp) response.getResponseObject();
            if (!signedForIssuer(basic, s.issuer)) {
                failed(s, "the response is not signed by the issuer or a responder it delegated to");
                return;
            }
            single = java.util.Arrays.stream(basic.getResponses()).filter(r -> r.getCertID().equals(s.id)).findFirst()
                    .orElse(null);
        } catch (IOException | OCSPException | RuntimeException e) {
            failed(s, "not an OCSP response: " + e.getMessage());
            return;
        }
        if (single == null || single.getCertStatus() instanceof UnknownStatus) {
            failed(s, single == null ? "the response is about another certificate" : "the responder does not know it");
            return;
        }
        Instant thisUpdate = single.getThisUpdate().toInstant();
        Instant nextUpdate = single.getNextUpdate() == null ? null : single.getNextUpdate().toInstant();
        if (thisUpdate.isAfter(now.plus(SKEW)) || (nextUpdate != null && !nextUpdate.isAfter(now))) {
            failed(s, "the response is not valid now (" + thisUpdate + " to " + nextUpdate + ")");
            return;
        }
        Instant expires = nextUpdate != null ? nextUpdate : now.plus(NO_NEXT_UPDATE);
        s.set(der, expires);
        fetched.increment();
        if (s.failures > 0 || s.first) {
            log.info("OCSP staple for {} from {}: valid until {}", s.name, s.responder, expires);
        }
        s.failures = 0;
        s.first = false;
        // Halfway to nextUpdate, and never more often than a minute.
        Instant refresh = nextUpdate == null ? now.plus(NO_NEXT_UPDATE)
                : thisUpdate.plus(Duration.between(thisUpdate, nextUpdate).dividedBy(2));
        schedule(s, Duration.between(now, refresh).compareTo(MIN_REFRESH) < 0 ? MIN_REFRESH
                : Duration.between(now, refresh));
    }

    private void failed(Staple s, String why) {
        failed.increment();
        s.failures++;
        // The first failure of a run is a warning; the rest would repeat it every few minutes.
        if (s.failures == 1) {
            log.warn("OCSP staple for {} from {} failed: {}; serving without a new staple, asking again", s.name,
                    s.responder, why);
        } else {
            log.debug("OCSP staple for {} failed again ({}): {}", s.name, s.failures, why);
        }
        long minutes = Math.min(MAX_RETRY.toMinutes(), 1L << Math.min(s.failures - 1, 4));
        schedule(s, Duration.ofMinutes(minutes));
    }

    private void schedule(Staple s, Duration delay) {
        if (!s.cancelled) {
            s.next = scheduler.schedule(() -> fetch(s), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Whether {@code basic} is signed by {@code issuer}, or by a certificate it carries that the issuer signed for OCSP. */
    private static boolean signedForIssuer(BasicOCSPResp basic, X509CertificateHolder issuer) {
        try {
            JcaContentVerifierProviderBuilder verifiers = new JcaContentVerifierProviderBuilder();
            if (basic.isSignatureValid(verifiers.build(issuer))) {
                return true;
            }
            for (X509CertificateHolder delegate : basic.getCerts()) {
                if (delegate.isSignatureValid(verifiers.build(issuer)) && delegate.isValidOn(new java.util.Date())
                        && delegate.getExtensions() != null
                        && org.bouncycastle.asn1.x509.ExtendedKeyUsage.fromExtensions(delegate.getExtensions()) != null
                        && org.bouncycastle.asn1.x509.ExtendedKeyUsage.fromExtensions(delegate.getExtensions())
                                .hasKeyPurposeId(KeyPurposeId.id_kp_OCSPSigning)
                        && basic.isSignatureValid(verifiers.build(delegate))) {
                    return true;
                }
            }
            return false;
        } catch (OperatorCreationException | org.bouncycastle.cert.CertException | OCSPException
                | java.security.cert.CertificateException e) {
            return false;
        }
    }

    /** One certificate's staple and its schedule. */
    private static final class Staple {
        /** A certificate that cannot be stapled (no issuer in its chain, no responder named). */
        static final Staple NONE = new Staple();

        final String name;
        final URI responder;
        final CertificateID id;
        final X509CertificateHolder issuer;
        /** The response and until when it holds, replaced together. */
        private volatile Held held;
        volatile boolean cancelled;
        volatile ScheduledFuture<?> next;
        /** Failed fetches in a row; the scheduler's thread only. */
        int failures;
        boolean first = true;

        private record Held(byte[] der, Instant expires) {
        }

        private Staple() {
            this.name = null;
            this.responder = null;
            this.id = null;
            this.issuer = null;
            this.cancelled = true;
        }

        private Staple(String name, URI responder, CertificateID id, X509CertificateHolder issuer) {
            this.name = name;
            this.responder = responder;
            this.id = id;
            this.issuer = issuer;
        }

        /** The staple of {@code c}'s leaf, or {@code null} when it cannot have one. */
        static Staple of(TlsConfig.Certificate c) {
            List<X509Certificate> chain;
            try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(c.chain()))) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                        .map(X509Certificate.class::cast).toList();
            } catch (IOException | java.security.cert.CertificateException e) {
                log.warn("OCSP stapling: cannot read {}: {}", c.chain(), e.getMessage());
                return null;
            }
            if (chain.isEmpty()) {
                return null;
            }
            X509Certificate leaf = chain.get(0);
            String name = leaf.getSubjectX500Principal().getName();
            URI responder = responder(leaf);
            if (responder == null) {
                log.debug("OCSP stapling: {} names no OCSP responder", name);
                return null;
            }
            if (chain.size() < 2) {
                log.warn("OCSP stapling: {} names a responder but {} holds no issuer certificate after it; not stapled",
                        name, c.chain());
                return null;
            }
            try {
                X509CertificateHolder issuer = new JcaX509CertificateHolder(chain.get(1));
                CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build()
                        .get(CertificateID.HASH_SHA1), issuer, leaf.getSerialNumber());
                return new Staple(name, responder, id, issuer);
            } catch (OperatorCreationException | OCSPException | java.security.cert.CertificateEncodingException e) {
                log.warn("OCSP stapling: cannot identify {} to its responder: {}", name, e.getMessage());
                return null;
            }
        }

        /** The {@code http://} OCSP responder the leaf's Authority Information Access names, or null. */
        static URI responder(X509Certificate leaf) {
            byte[] ext = leaf.getExtensionValue(Extension.authorityInfoAccess.getId());
            if (ext == null) {
                return null;
            }
            try {
                AuthorityInformationAccess aia = AuthorityInformationAccess.getInstance(
                        ASN1Primitive.fromByteArray(DEROctetString.getInstance(ext).getOctets()));
                for (AccessDescription d : aia.getAccessDescriptions()) {
                    if (d.getAccessMethod().equals(AccessDescription.id_ad_ocsp)
                            && d.getAccessLocation().getTagNo() == GeneralName.uniformResourceIdentifier) {
                        URI uri = URI.create(d.getAccessLocation().getName().toString());
                        if ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme())) {
                            return uri;
                        }
                    }
                }
            } catch (IOException | IllegalArgumentException e) {
                log.warn("OCSP stapling: unreadable Authority Information Access in {}: {}",
                        leaf.getSubjectX500Principal().getName(), e.getMessage());
            }
            return null;
        }

        byte[] current(Instant now) {
            Held h = held;
            return h != null && now.isBefore(h.expires()) ? h.der() : null;
        }

        void set(byte[] der, Instant expires) {
            held = new Held(der, expires);
        }

        void cancel() {
            cancelled = true;
            ScheduledFuture<?> f = next;
            if (f != null) {
                f.cancel(false);
            }
        }
    }
}
