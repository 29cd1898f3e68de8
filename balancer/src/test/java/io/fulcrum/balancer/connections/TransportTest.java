package io.fulcrum.balancer.connections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ProxyHeader;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.Transports;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * {@code transport: auto} takes the fastest transport this host allows, a transport named in the
 * config is taken or refused with the native library's reason, and on each transport the balancer
 * proxies, checks its backends' health, reads PROXY headers and says which transport it runs on.
 */
class TransportTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    static final List<String> transports = Transports.ALL;

    @Test
    void autoTakesIoUringThenEpollThenNio() {
        String expected = Transport.ioUringAvailable() ? "io_uring" : Epoll.isAvailable() ? "epoll" : "nio";
        Transport chosen = withProperty(null, () -> Transport.choose(Transport.Kind.AUTO));
        assertEquals(expected, chosen.name());
        if (expected.equals("io_uring")) {
            assertNull(chosen.note(), "nothing to explain when the first choice runs");
        } else {
            assertTrue(chosen.note().contains("io_uring unavailable"), chosen.note());
        }
    }

    @Test
    void ioUringPollsOneShot() {
        Transports.assumeAvailable("io_uring");
        // Transport turns multishot polls off before Netty's io_uring transport loads (see
        // Transport.IO_URING_MULTISHOT_POLL_PROPERTY): with them, a peer's reset that arrives with
        // its last bytes can go unseen.
        String property = Transport.IO_URING_MULTISHOT_POLL_PROPERTY;
        assertFalse(IoUring.isPollAddMultishotEnabled(), property + "=" + System.getProperty(property));
    }

    @Test
    void theConfigNamesAreTheKinds() {
        for (Transport.Kind k : Transport.Kind.values()) {
            assertEquals(k, Transport.Kind.of(k.yamlName()));
        }
        assertEquals("io_uring", Transport.Kind.IO_URING.yamlName());
        assertNull(Transport.Kind.of("uring"));
    }

    @Test
    void theSystemPropertyOverridesTheConfigAndIsChecked() {
        assertEquals("nio", withProperty("nio", () -> Transport.choose(Transport.Kind.AUTO)).name());
        IllegalStateException bad = assertThrows(IllegalStateException.class,
                () -> withProperty("kqueue", () -> Transport.choose(Transport.Kind.AUTO)));
        assertEquals("-Dfulcrum.transport=kqueue: expected one of auto, io_uring, epoll, nio", bad.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("transports")
    void eachTransportProxiesChecksHealthReadsProxyHeadersAndSaysItsName(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        ScriptedBackend backend = fx.backend("b1");
        // Ready means the first round of active health checks reached the backend on this transport.
        Balancer b = withProperty(null, () -> fx.readyBalancer(BalancerYaml.activeChecks().backends(backend)
                .merge("transport: " + transport + "\n")
                .merge("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: any }\n")));
        assertEquals(transport, b.transport().name());

        try (RawHttpClient client = RawHttpClient.connect(b.port(), (int) Fixtures.WAIT.toMillis())) {
            client.send(ProxyHeader.v2("192.0.2.9", "10.0.0.1", 80));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, client.get("/keep-alive/" + i).status(), "request " + i + " on one connection");
            }
            String body = "{\"n\":1}";
            client.send("POST /posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body);
            assertEquals(200, client.readResponse().status());
        }
        List<HttpRequest> seen = backend.received();
        HttpRequest last = seen.get(seen.size() - 1);
        assertEquals("/posts", last.uri());
        assertEquals("192.0.2.9", last.headers().get("X-Real-IP"), "the PROXY header's source");

        assertTrue(fx.adminGet(b, "/config/status").contains("\"transport\":\"" + transport + "\""));
        assertTrue(fx.adminGet(b, "/metrics").contains("fulcrum_transport_info{transport=\"" + transport + "\"} 1"));
    }

    /** Runs {@code action} with the transport property set to {@code value} (or cleared), then restores it. */
    private static <T> T withProperty(String value, ThrowingSupplier<T> action) {
        String before = System.getProperty(Transport.PROPERTY);
        if (value == null) {
            System.clearProperty(Transport.PROPERTY);
        } else {
            System.setProperty(Transport.PROPERTY, value);
        }
        try {
            return action.get();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
    }

    private interface ThrowingSupplier<T> {
        T get() throws Exception;
    }
}
