package io.fulcrum.balancer.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.tls.TestCertificates;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Transports;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whatever a backend sends right after its 101 reaches the client after the 101, in order: a
 * backend that greets each new WebSocket at once (chat, games, socket.io-style protocols) writes
 * its 101 and its first frame in one go, so both arrive in one read of the backend connection.
 * Checked on each transport the balancer can run on (io_uring, epoll, NIO), on both listeners (cleartext,
 * TLS) and to cleartext and {@code https://} backends, over several upgrades on the same balancer.
 */
class TunnelOrderingTest {
    private static final int UPGRADES = 10;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    static Stream<Arguments> listeners() {
        List<Arguments> all = new ArrayList<>();
        for (String transport : List.of("io_uring", "epoll", "nio")) {
            for (boolean tls : List.of(false, true)) {
                for (boolean backendTls : List.of(false, true)) {
                    all.add(Arguments.of(transport, tls, backendTls));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}, tls={1}, https backend={2}")
    @MethodSource("listeners")
    void theFramesABackendSendsWithIts101FollowThe101(String transport, boolean tls, boolean backendTls)
            throws Exception {
        Transports.assumeAvailable(transport);
        Path certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key");
        SSLContext backendContext = backendTls ? ((JdkSslContext) SslContextBuilder.forServer(
                certs.resolve("localhost.pem").toFile(), certs.resolve("localhost.key").toFile())
                .sslProvider(SslProvider.JDK).build()).context() : null;
        RawWsBackend backend = fx.closeAfter(RawWsBackend.start((head, in, out, socket) -> {
            // The 101, a greeting and a second message in one write: one TCP segment on loopback.
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(RawWsBackend.switching(head));
            all.writeBytes(WsFrame.text("welcome", null).wire());
            all.writeBytes(WsFrame.text("second", null).wire());
            out.write(all.toByteArray());
            out.flush();
            // Then an echo of each frame, so that the client's direction is checked too.
            while (true) {
                WsFrame f = WsFrame.read(in);
                out.write(WsFrame.of(true, f.opcode(), f.payload(), null).wire());
                out.flush();
            }
        }, backendContext));
        BalancerYaml yaml = backendTls
                ? BalancerYaml.create().backend(new BalancerYaml.Backend("ws", "localhost", backend.port(), null, 0, 0,
                        true)).merge("backend-tls: { ca-file: " + certs.resolve("ca.pem") + " }\n")
                : BalancerYaml.create().backend("ws", backend.port());
        Balancer balancer = start(transport, tls ? withTls(yaml, certs) : yaml);
        SSLContext clientTls = tls ? TestCertificates.trustingTestCa() : null;
        int port = tls ? balancer.tlsPort() : balancer.port();

        for (int i = 0; i < UPGRADES; i++) {
            try (RawWsClient client = RawWsClient.connect(port, clientTls)) {
                String head = client.upgrade("/chat");
                assertTrue(head.startsWith("HTTP/1.1 101 "), "upgrade " + i + ": the 101 comes first, got: " + head);
                assertEquals("welcome", client.readFrame().text(), "upgrade " + i);
                assertEquals("second", client.readFrame().text(), "upgrade " + i);
                WsFrame sent = WsFrame.text("from client " + i, new byte[] {1, 2, 3, 4});
                client.send(sent);
                assertArrayEquals(sent.payload(), client.readFrame().payload(), "upgrade " + i);
            }
        }
        assertEquals(List.of(), backend.failures(), "backend sessions");
    }

    private static BalancerYaml withTls(BalancerYaml yaml, Path certs) {
        return yaml.merge("tls:\n  listen: { host: 127.0.0.1, port: 0 }\n  cert: " + certs.resolve("localhost.pem")
                + "\n  key: " + certs.resolve("localhost.key") + "\n");
    }

    /** A balancer from {@code yaml} on {@code transport}. */
    private Balancer start(String transport, BalancerYaml yaml) throws Exception {
        return fx.balancer(yaml.merge("transport: " + transport + "\n"));
    }
}
