package io.fulcrum.balancer.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code timeouts.request-head} runs from the accept: what comes before the first request, the
 * TLS handshake and a trusted edge's PROXY header, counts towards it, so neither can be
 * stretched past it (client-idle is 30 s here, the TLS handshake's own limit 10 s). The
 * connection is closed without an answer: no HTTP was spoken yet.
 */
class RequestHeadBeforeHttpTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final ScheduledExecutorService trickler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stopTrickling() {
        trickler.shutdownNow();
    }

    private Balancer balancer(String more) throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        return fx.balancer(BalancerYaml.forProxy().backend(backend.port())
                .set("timeouts.client-idle", "30s").set("timeouts.request-head", "500ms").merge(more));
    }

    /** Writes one byte of {@code bytes} every 100 ms, from {@code from} on, until the end or a failed write. */
    private void trickle(OutputStream out, byte[] bytes, int from) {
        int[] next = {from};
        trickler.scheduleAtFixedRate(() -> {
            if (next[0] < bytes.length) {
                try {
                    out.write(bytes[next[0]++]);
                    out.flush();
                } catch (IOException e) {
                    throw new IllegalStateException("closed", e);
                }
            }
        }, 0, 100, TimeUnit.MILLISECONDS);
    }

    /**
     * Reads until the balancer closes (-1) and returns what came; a read timeout fails the test. A
     * byte the trickler writes after the close makes the balancer's side answer with a reset, which
     * ends the read as a close does.
     */
    private static int bytesUntilClosed(InputStream in) throws IOException {
        int n = 0;
        try {
            while (in.read() >= 0) {
                n++;
            }
        } catch (SocketException e) {
            if (!String.valueOf(e.getMessage()).contains("reset")) {
                throw e;
            }
        }
        return n;
    }

    @Test
    void aTlsHandshakeTrickledByteByByteIsCutAtRequestHead() throws Exception {
        Balancer b = balancer(TestCertificates.tlsSection(fx.dir()));
        try (RawHttpClient c = RawHttpClient.connect(b.tlsPort(), 5000)) {
            // The start of a TLS record holding a ClientHello of 512 bytes, then its bytes one at a time.
            byte[] hello = new byte[5 + 512];
            hello[0] = 0x16;
            hello[1] = 0x03;
            hello[2] = 0x01;
            hello[3] = 0x02;
            hello[4] = 0x00;
            hello[5] = 0x01;
            trickle(c.output(), hello, 0);
            assertEquals(0, bytesUntilClosed(c.input()), "closed without an answer");
        }
        assertEquals(1, b.proxy().headTimeouts());
    }

    @Test
    void aProxyHeaderTrickledByteByByteIsCutAtRequestHead() throws Exception {
        Balancer b = balancer("trusted-edges: { networks: [127.0.0.1/32], proxy-protocol: v1 }");
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 5000)) {
            byte[] header = "PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n".getBytes(StandardCharsets.US_ASCII);
            trickle(c.output(), header, 0);
            assertEquals(0, bytesUntilClosed(c.input()), "closed without an answer");
        }
        assertEquals(1, b.proxy().headTimeouts());
        assertEquals(0, b.proxy().proxyHeadersRefused(), "a slow header is not a refused one");
    }
}
