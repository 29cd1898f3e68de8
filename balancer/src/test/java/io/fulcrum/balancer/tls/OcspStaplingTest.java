package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Chromium;
import io.fulcrum.testing.Curl;
import io.fulcrum.testing.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.text.SimpleDateFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TimeZone;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;

/**
 * OCSP stapling against a real responder: {@code openssl ocsp} started by the test with a CA and a
 * certificate made by the test (its Authority Information Access names the responder), and
 * {@code openssl s_client -status} as the client that asks for the staple. With the responder down
 * the listener serves without a staple and counts the failures. The status page shows the
 * staples. Skipped with a message where
 * openssl is missing (CI installs it) or BoringSSL does not load.
 */
class OcspStaplingTest {
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Path pki;
    private int responderPort;

    @BeforeEach
    void makeCertificates() throws Exception {
        if (!Files.isExecutable(OPENSSL)) {
            String message = "openssl not installed (" + OPENSSL + "): apt-get install openssl";
            if ("true".equals(System.getenv("CI"))) {
                fail(message);
            }
            abort("Skipping: " + message);
        }
        if (!TlsContexts.staples()) {
            abort("Skipping: BoringSSL (netty-tcnative) did not load; the JDK's engine staples nothing");
        }
        Curl.requireInstalled();
        pki = Files.createDirectories(fx.dir().resolve("pki"));
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            responderPort = s.getLocalPort();
        }
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
                "-subj", "/CN=Fulcrum OCSP Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.rsa", "-out", "leaf.csr", "-subj", "/CN=localhost");
        Files.writeString(pki.resolve("leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                + "authorityInfoAccess=OCSP;URI:http://127.0.0.1:" + responderPort + "\n");
        openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "0x1001",
                "-days", "30", "-extfile", "leaf.ext", "-out", "leaf.pem");
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", "leaf.rsa", "-out", "leaf.key");
        Files.writeString(pki.resolve("chain.pem"), Files.readString(pki.resolve("leaf.pem"))
                + Files.readString(pki.resolve("ca.pem")));
        X509Certificate leaf;
        try (InputStream in = Files.newInputStream(pki.resolve("leaf.pem"))) {
            leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        SimpleDateFormat asn1 = new SimpleDateFormat("yyMMddHHmmss'Z'");
        asn1.setTimeZone(TimeZone.getTimeZone("UTC"));
        // openssl's CA database: the certificate, valid (V), by its serial.
        Files.writeString(pki.resolve("index.txt"), "V\t" + asn1.format(leaf.getNotAfter()) + "\t\t1001\tunknown\t/CN=localhost\n");
        Files.writeString(pki.resolve("index.txt.attr"), "unique_subject = no\n");
    }

    private String openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(OPENSSL.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(pki.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("openssl did not finish: " + command);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    /** Starts {@code openssl ocsp} as the CA's responder (the CA signs its answers), stopped after the test. */
    private void startResponder() throws Exception {
        Process responder = new ProcessBuilder(OPENSSL.toString(), "ocsp", "-index", "index.txt", "-port",
                Integer.toString(responderPort), "-CA", "ca.pem", "-rsigner", "ca.pem", "-rkey", "ca.key", "-nmin", "60")
                .directory(pki.toFile()).redirectErrorStream(true)
                .redirectOutput(pki.resolve("responder.log").toFile()).start();
        fx.closeAfter(() -> {
            responder.destroy();
            responder.waitFor(10, TimeUnit.SECONDS);
        });
        // Its log says when it listens; a probe connection would hold its one thread until it times out.
        await("the responder listens").atMost(Fixtures.WAIT).pollInterval(Duration.ofMillis(100))
                .until(() -> Files.readString(pki.resolve("responder.log")).contains("waiting for OCSP client connections"));
    }

    private Balancer balancer() throws Exception {
        return fx.balancer(BalancerYaml.create().backend("b1", fx.backend("b1").port()).merge("tls:\n"
                + "  listen: { host: 127.0.0.1, port: 0 }\n"
                + "  cert: " + pki.resolve("chain.pem") + "\n"
                + "  key: " + pki.resolve("leaf.key") + "\n"));
    }

    /** What {@code openssl s_client -status} says of the staple it got. */
    private String statusSeenByClient(Balancer b) throws Exception {
        return openssl("s_client", "-connect", "127.0.0.1:" + b.tlsPort(), "-servername", "localhost", "-status",
                "-CAfile", "ca.pem");
    }

    @Test
    void theResponseOfTheCertificatesResponderIsStapled() throws Exception {
        startResponder();
        Balancer b = balancer();

        await("stapled").atMost(Fixtures.WAIT).pollInterval(Duration.ofMillis(300))
                .until(() -> statusSeenByClient(b).contains("Cert Status: good"));
        String seen = statusSeenByClient(b);
        assertTrue(seen.contains("OCSP Response Status: successful"), seen);
        assertTrue(seen.contains("Serial Number: 1001"), seen);
        String metrics = fx.adminGet(b, "/metrics");
        assertTrue(metrics.contains("fulcrum_tls_ocsp_stapled 1.0"), metrics);
        assertTrue(metrics.contains("fulcrum_tls_ocsp_fetched_total 1.0"), metrics);

        // The status page says so (skipped where Chromium is not installed; CI has it).
        try (Chromium chromium = Chromium.start(fx.dir().resolve("chromium-profile"))) {
            WebDriver browser = chromium.driver();
            browser.get("http://127.0.0.1:" + b.adminPort() + "/");
            await("the status page's OCSP line").atMost(Fixtures.WAIT).pollInterval(Duration.ofMillis(200))
                    .until(() -> browser.findElement(By.id("ocsp")).getText(),
                            text -> text.startsWith("OCSP: 1 certificate(s) stapled; 1 responses fetched"));
        }
    }

    @Test
    void withTheResponderDownTheListenerServesWithoutAStapleAndCountsIt() throws Exception {
        Balancer b = balancer();

        await("a failed fetch counted").atMost(Fixtures.WAIT).pollInterval(Duration.ofMillis(200))
                .until(() -> fx.adminGet(b, "/metrics").contains("fulcrum_tls_ocsp_failures_total 1.0"));
        assertTrue(statusSeenByClient(b).contains("OCSP response: no response sent"));
        String out = Curl.run("--cacert", pki.resolve("ca.pem").toString(), "-w", "\n%{http_code}",
                "https://localhost:" + b.tlsPort() + "/served");
        assertTrue(out.endsWith("\n200"), out);
        assertTrue(fx.adminGet(b, "/metrics").contains("fulcrum_tls_ocsp_stapled 0.0"));
    }
}
