package io.fulcrum.balancer.connections;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.tls.TestCertificates;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.H2Backend;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The default HTTP health check of a pool whose backends speak only HTTP/2 ({@code protocol: h2c}
 * or {@code h2}): the probe goes over HTTP/2, so such a backend is judged by its answer on the
 * health path (2xx up, 503 down) and not by its refusal of HTTP/1.1.
 */
class Http2HealthCheckTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static HttpResponse<String> get(Balancer balancer, String path) throws Exception {
        return HTTP1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anH2cBackendPassesTheDefaultCheckAndServes() throws Exception {
        H2Backend h2 = fx.closeAfter(H2Backend.h2c(100));
        Balancer balancer = fx.balancer(BalancerYaml.activeChecks().set("protocol", "h2c").backend("h2b", h2.port()));
        // Each check is scheduled once the one before it was judged; a first failure takes a backend down at once.
        await().atMost(Fixtures.WAIT).until(() -> h2.streams("/health") >= 2);
        assertTrue(fx.state("h2b").healthy(), "up after its checks over HTTP/2");
        HttpResponse<String> r = get(balancer, "/a");
        assertEquals(200, r.statusCode());
        assertEquals("/a", r.headers().firstValue("x-path").orElse(null));
    }

    @Test
    void anH2cBackendAnswering503OnTheHealthPathGoesDown() throws Exception {
        H2Backend sick = fx.closeAfter(H2Backend.h2c(100));
        H2Backend well = fx.closeAfter(H2Backend.h2c(100));
        sick.status("/health", 503);
        Balancer balancer = fx.balancer(BalancerYaml.activeChecks().set("protocol", "h2c")
                .backend("sick", sick.port()).backend("well", well.port()));
        await().atMost(Fixtures.WAIT).until(() -> !fx.state("sick").healthy());
        await().atMost(Fixtures.WAIT).until(() -> well.streams("/health") >= 2);
        assertTrue(fx.state("well").healthy(), "the other backend stays up");
        int before = sick.streams("/x");
        for (int i = 0; i < 10; i++) {
            assertEquals(200, get(balancer, "/x").statusCode());
        }
        assertEquals(before, sick.streams("/x"), "no request reached the backend that is down");
        assertEquals(10, well.streams("/x"));
    }

    @Test
    void anH2BackendOverTlsPassesTheDefaultCheck() throws Exception {
        Path certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key");
        H2Backend h2 = fx.closeAfter(H2Backend.h2(SslContextBuilder.forServer(certs.resolve("localhost.pem").toFile(),
                certs.resolve("localhost.key").toFile()).applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2)).build()));
        Balancer balancer = fx.balancer(BalancerYaml.activeChecks()
                .set("backend-tls.ca-file", certs.resolve("ca.pem").toString())
                .set("protocol", "h2")
                .backend(new BalancerYaml.Backend("secure", "localhost", h2.port(), null, 0, 0, true)));
        await().atMost(Fixtures.WAIT).until(() -> h2.streams("/health") >= 2);
        assertTrue(fx.state("secure").healthy(), "up after its checks over HTTP/2 agreed by ALPN");
        assertEquals(200, get(balancer, "/secure").statusCode());
    }
}
