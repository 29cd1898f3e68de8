package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.admin.ReloadResult;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Certificates renewed while clients keep connecting: several clients on 127.0.0.1 make fresh TLS
 * handshakes (no session resumption) and one request each, back to back, while the certificate
 * files are replaced in place, key first and chain second as renewal tools do. The first renewal
 * is found by the balancer's own check of the files; the second is applied by {@code reload},
 * which is also asked for at the worst moment, with a new key beside the old chain, and refuses
 * that. Not one handshake or request fails, and every handshake begun after the reload applied
 * gets the new certificate.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CertificateReloadUnderLoadTest {
    private static final int CLIENTS = 4;
    /** Each client stops after this many connections, whatever happens. */
    private static final int MAX_CONNECTIONS_PER_CLIENT = 4000;
    /** Handshakes that must see a certificate before the test moves on. */
    private static final int ENOUGH = 20;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /** One connection: when its handshake began, the certificate it got, or why it failed. */
    private record Outcome(long startedNanos, String name, String failure) {
    }

    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private volatile boolean stop;

    @Test
    void renewalsUnderContinuousHandshakesFailNothingAndNewHandshakesGetTheNewCertificate() throws Exception {
        Path certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "localhost.pem", "localhost.key",
                "a-test.pem", "a-test.key", "b-test.pem", "b-test.key");
        TrustManagerFactory testCa = TestCertificates.testCa();
        Balancer balancer = fx.balancer(BalancerYaml.forProxy().backend("b1", fx.backend("b1").port()).merge("tls:\n"
                + "  listen: { host: 127.0.0.1, port: 0 }\n"
                + "  cert: " + certs.resolve("localhost.pem") + "\n"
                + "  key: " + certs.resolve("localhost.key") + "\n"));
        int port = balancer.tlsPort();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Thread t = new Thread(() -> connectUntilStopped(port, testCa), "tls-client-" + i);
            t.setDaemon(true);
            t.start();
            clients.add(t);
        }
        try {
            await().atMost(Fixtures.WAIT).until(() -> served("localhost") >= ENOUGH);

            // Renewed in place; the balancer's periodic check of the files finds it.
            replace(certs, "b-test");
            await("renewal found by the file check").atMost(Duration.ofSeconds(60)).until(() -> served("b.test") >= ENOUGH);

            // Renewed again, and reloaded at once, first while only the key is new.
            Files.copy(certs.resolve("a-test.key"), certs.resolve("localhost.key"), StandardCopyOption.REPLACE_EXISTING);
            ReloadResult half = balancer.reloader().reload("test: key without its chain").get(20, TimeUnit.SECONDS);
            assertFalse(half.applied(), "a key beside another certificate is refused: " + half);
            Files.copy(certs.resolve("a-test.pem"), certs.resolve("localhost.pem"), StandardCopyOption.REPLACE_EXISTING);
            ReloadResult whole = balancer.reloader().reload("test: renewed").get(20, TimeUnit.SECONDS);
            assertTrue(whole.applied(), whole.toString());
            long appliedAt = System.nanoTime();
            await().atMost(Fixtures.WAIT).until(() -> outcomes.stream()
                    .filter(o -> o.startedNanos() - appliedAt > 0 && "a.test".equals(o.name())).count() >= ENOUGH);

            stop = true;
            for (Thread t : clients) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }
            List<Outcome> failed = outcomes.stream().filter(o -> o.failure() != null).toList();
            org.slf4j.LoggerFactory.getLogger(CertificateReloadUnderLoadTest.class).info(
                    "{} fresh handshakes and requests, {} failed", outcomes.size(), failed.size());
            assertEquals(List.of(), failed, "failed handshakes or requests, of " + outcomes.size());
            List<Outcome> staleAfterReload = outcomes.stream()
                    .filter(o -> o.startedNanos() - appliedAt > 0 && !"a.test".equals(o.name())).toList();
            assertEquals(List.of(), staleAfterReload, "handshakes begun after the reload got the old certificate");
        } finally {
            stop = true;
        }
    }

    /** Copies {@code name}.key then {@code name}.pem over the served files, as renewal tools do. */
    private static void replace(Path certs, String name) throws Exception {
        Files.copy(certs.resolve(name + ".key"), certs.resolve("localhost.key"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(certs.resolve(name + ".pem"), certs.resolve("localhost.pem"), StandardCopyOption.REPLACE_EXISTING);
    }

    private long served(String name) {
        return outcomes.stream().filter(o -> name.equals(o.name())).count();
    }

    private void connectUntilStopped(int port, TrustManagerFactory testCa) {
        for (int i = 0; i < MAX_CONNECTIONS_PER_CLIENT && !stop; i++) {
            long started = System.nanoTime();
            // A client context of its own each time: a cached session would skip the certificate.
            try (SSLSocket socket = (SSLSocket) TestCertificates.clientContext(testCa).getSocketFactory()
                    .createSocket("127.0.0.1", port)) {
                SSLParameters params = socket.getSSLParameters();
                // The chain is checked against the test CA; which name it carries is the point here.
                params.setEndpointIdentificationAlgorithm(null);
                socket.setSSLParameters(params);
                socket.setSoTimeout(20_000);
                socket.startHandshake();
                X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                String name = leaf.getSubjectX500Principal().getName().replace("CN=", "");
                OutputStream out = socket.getOutputStream();
                out.write(("GET /load/" + i + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = socket.getInputStream();
                String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                outcomes.add(response.startsWith("HTTP/1.1 200 ") ? new Outcome(started, name, null)
                        : new Outcome(started, name, "answered: " + response.lines().findFirst().orElse("(nothing)")));
            } catch (Exception e) {
                outcomes.add(new Outcome(started, null, e.toString()));
            }
        }
    }
}
