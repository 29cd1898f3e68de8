package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawBackend;
import io.fulcrum.testing.RawHttpClient;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 8 finding: a backend status line whose code is not three digits (RFC 9112 section 4) is
 * a malformed response, and the client gets a 502 rather than a relayed {@code 2000} or {@code 20}.
 */
class BackendStatusLineTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"HTTP/1.1 2000 OK", "HTTP/1.1 20 OK"})
    void aStatusCodeThatIsNotThreeDigitsBecomes502(String statusLine) throws Exception {
        RawBackend backend = fx.closeAfter(RawBackend.start(statusLine + "\r\nContent-Length: 2\r\n\r\nok", true));
        Balancer balancer = fx.balancer(BalancerYaml.create().backend("b1", backend.port()));

        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), 5000)) {
            RawHttpClient.Response response = client.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readResponse();
            assertEquals(502, response.status(), response.statusLine() + " " + response.bodyText());
        }
    }
}
