package io.fulcrum.balancer.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.H2cClient;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A PROXY header from a trusted edge in front of the other pipelines: before the TLS handshake on
 * the HTTPS listener, and before HTTP/2's preface on the cleartext port, where every stream's
 * request carries the header's address.
 */
class ProxyProtocolPipelinesTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final SSLContext trustingTestCa = TestCertificates.trustingTestCa();

    private Balancer balancer(ScriptedBackend backend) throws Exception {
        return fx.balancer(BalancerYaml.forProxy().backends(backend)
                .merge(TestCertificates.tlsSection(fx.dir()))
                .merge("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: any }"));
    }

    /** Sends {@code proxyHeader} in clear, then a request over TLS on the same connection; the status line. */
    private String getOverTls(int port, String proxyHeader) throws Exception {
        try (RawHttpClient plain = RawHttpClient.connect(port, 10_000)) {
            if (proxyHeader != null) {
                plain.send(proxyHeader);
            }
            try (RawHttpClient tls = plain.startTls(trustingTestCa, "localhost", "http/1.1")) {
                return tls.send("GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                        .readResponse().statusLine();
            }
        }
    }

    @Test
    void everyHttp2StreamCarriesTheAddressOfTheHeaderBeforeThePreface() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = balancer(backend);
        // The header first; the HTTP/2 codec, added next, sends its preface as it is added.
        try (H2cClient h2c = H2cClient.connect(b.port(), HAProxyMessageEncoder.INSTANCE,
                new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                        HAProxyProxiedProtocol.TCP4, "192.0.2.77", "10.0.0.1", 41000, 80))) {
            for (int i = 0; i < 2; i++) {
                FullHttpResponse r = h2c.get("/h2c", Duration.ofSeconds(20));
                try {
                    assertEquals(200, r.status().code());
                } finally {
                    ReferenceCountUtil.release(r);
                }
                List<HttpRequest> seen = backend.received();
                assertEquals("192.0.2.77", seen.get(seen.size() - 1).headers().get("X-Real-IP"), "stream " + i);
            }
        }
    }

    @Test
    void theHeaderBeforeTheHandshakeNamesTheClient() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = balancer(backend);
        assertEquals("HTTP/1.1 200 OK", getOverTls(b.tlsPort(), "PROXY TCP4 203.0.113.60 127.0.0.1 50000 443\r\n"));
        List<HttpRequest> seen = backend.received();
        HttpRequest last = seen.get(seen.size() - 1);
        assertEquals("203.0.113.60", last.headers().get("X-Real-IP"));
        assertEquals("203.0.113.60", last.headers().get("X-Forwarded-For"));
        assertEquals("https", last.headers().get("X-Forwarded-Proto"));

        // Without a header the handshake goes on as usual and the peer is the client.
        assertEquals("HTTP/1.1 200 OK", getOverTls(b.tlsPort(), null));
        seen = backend.received();
        assertEquals("127.0.0.1", seen.get(seen.size() - 1).headers().get("X-Real-IP"));
        assertTrue(b.proxy().proxyHeadersRefused() == 0);
    }
}
