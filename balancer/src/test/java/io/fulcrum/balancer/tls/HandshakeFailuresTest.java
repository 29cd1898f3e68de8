package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.metrics.BalancerMetrics;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.LogRecorder;
import io.fulcrum.testing.RawHttpClient;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.micrometer.core.instrument.FunctionCounter;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failed TLS handshakes: counted by reason in {@code fulcrum_tls_handshake_failures_total}, and
 * logged as a sample (the first, then at most one a minute with the count left unlogged) instead
 * of one WARN line per failure. Over real sockets with clients that speak plain HTTP to the TLS
 * port or offer a TLS version the listener does not accept; the sampling with a hand-driven clock.
 */
class HandshakeFailuresTest {
    private static final String LOGGER = HandshakeFailures.class.getName();

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final LogRecorder ours = LogRecorder.of(LOGGER);
    private final LogRecorder netty = LogRecorder.of("io.netty");

    @AfterEach
    void detach() {
        ours.close();
        netty.close();
    }

    private double failures(Balancer b, String reason) {
        FunctionCounter c = b.meterRegistry().find(BalancerMetrics.TLS_HANDSHAKE_FAILURES)
                .tag(BalancerMetrics.TAG_REASON, reason).functionCounter();
        return c == null ? -1 : c.count();
    }

    private List<String> warnings(LogRecorder recorder) {
        return recorder.lines().stream().filter(l -> l.startsWith("WARN") || l.startsWith("ERROR")).toList();
    }

    @Test
    void failedHandshakesAreCountedByReasonAndOnlyASampleIsLogged() throws Exception {
        Balancer b = fx.balancer(BalancerYaml.create().backend("b1", fx.backend("b1").port())
                .merge(TestCertificates.tlsSection(fx.dir()) + "  protocols: [TLSv1.3]\n"));
        for (int i = 0; i < 3; i++) {
            try (RawHttpClient c = RawHttpClient.connect(b.tlsPort(), 10_000)) {
                c.send("GET / HTTP/1.1\r\nHost: scanner\r\n\r\n");
                // Whatever comes back, the connection ends; nothing is proxied.
                await().atMost(Fixtures.WAIT).until(c::isClosedByPeer);
            }
        }
        for (int i = 0; i < 2; i++) {
            assertThrows(SSLException.class, () -> handshake(b.tlsPort(), "TLSv1.2"));
        }
        await().atMost(Fixtures.WAIT).until(() -> failures(b, "not_tls") == 3 && failures(b, "protocol") == 2);
        assertEquals(0.0, failures(b, "other"));
        assertTrue(fx.adminGet(b, "/metrics").contains("fulcrum_tls_handshake_failures_total{reason=\"not_tls\"} 3.0"));

        List<String> logged = warnings(ours);
        assertEquals(1, logged.size(), "five failures, one line: " + logged);
        assertTrue(logged.get(0).contains("TLS handshake failed from /127.0.0.1:"), logged.get(0));
        assertTrue(logged.get(0).contains(": not_tls ("), logged.get(0));
        assertEquals(List.of(), warnings(netty), "nothing else logs a failed handshake");
    }

    private static void handshake(int port, String protocol) throws Exception {
        try (SSLSocket socket = (SSLSocket) TestCertificates.trustingTestCa()
                .getSocketFactory().createSocket("127.0.0.1", port)) {
            SSLParameters params = socket.getSSLParameters();
            params.setProtocols(new String[] {protocol});
            socket.setSSLParameters(params);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
        }
    }

    @Test
    void theLogHasTheFirstFailureThenAtMostOneAMinuteWithTheCountLeftUnlogged() {
        AtomicLong now = new AtomicLong(1_000);
        HandshakeFailures failures = new HandshakeFailures(now::get);
        failures.record("/192.0.2.1:5000", new NotSslRecordException("not an SSL/TLS record"));
        for (int i = 0; i < 40; i++) {
            now.addAndGet(TimeUnit.SECONDS.toNanos(1));
            failures.record("/192.0.2.1:5000", new NotSslRecordException("not an SSL/TLS record"));
        }
        assertEquals(1, warnings(ours).size(), warnings(ours).toString());
        now.addAndGet(TimeUnit.SECONDS.toNanos(20));
        failures.record("/192.0.2.9:6000", new SSLHandshakeException("no cipher suites in common"));
        List<String> logged = warnings(ours);
        assertEquals(2, logged.size(), logged.toString());
        assertTrue(logged.get(1).contains("from /192.0.2.9:6000: cipher (SSLHandshakeException: no cipher suites"
                + " in common); 40 more failed since the last one logged"), logged.get(1));
        assertEquals(41, failures.count("not_tls"));
        assertEquals(1, failures.count("cipher"));
    }

    @Test
    void reasonsAreFewAndNamedFromTheFailure() {
        assertEquals(HandshakeFailures.Reason.NOT_TLS,
                HandshakeFailures.reason(new io.netty.handler.codec.DecoderException(new NotSslRecordException())));
        assertEquals(HandshakeFailures.Reason.PROTOCOL, HandshakeFailures.reason(new SSLHandshakeException(
                "The client supported protocol versions [TLSv1.2] are not accepted by server preferences [TLS13]")));
        assertEquals(HandshakeFailures.Reason.PROTOCOL, HandshakeFailures.reason(new SSLHandshakeException(
                "error:100000f0:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL")));
        assertEquals(HandshakeFailures.Reason.CERTIFICATE, HandshakeFailures.reason(new SSLHandshakeException(
                "Received fatal alert: certificate_unknown")));
        assertEquals(HandshakeFailures.Reason.TIMEOUT,
                HandshakeFailures.reason(new SslHandshakeTimeoutException("handshake timed out after 10000ms")));
        assertEquals(HandshakeFailures.Reason.CLOSED, HandshakeFailures.reason(new ClosedChannelException()));
        assertEquals(HandshakeFailures.Reason.OTHER, HandshakeFailures.reason(new IOException("odd")));
        assertEquals(List.of("not_tls", "protocol", "cipher", "certificate", "timeout", "closed", "other"),
                HandshakeFailures.reasons());
    }
}
