package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 8 finding: a request-target with bytes RFC 9112 section 3.2 does not allow (NUL, other
 * control characters, DEL, a space inside it, or a fragment's {@code #}) is answered 400 by the
 * balancer and never forwarded. Sent as raw bytes over a socket, since an HTTP client would
 * refuse or encode them.
 */
class RequestTargetTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/a%00b", "/a%01b", "/a%1fb", "/a%7fb", "/a%20b", "/a%09b", "/a#frag", "/#"})
    void aRequestTargetWithForbiddenBytesGets400AndIsNotForwarded(String escaped) throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = fx.balancer(BalancerYaml.create().backend("b1", backend.port()));
        byte[] target = unescape(escaped);
        byte[] head = "GET ".getBytes(StandardCharsets.ISO_8859_1);
        byte[] tail = " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = new byte[head.length + target.length + tail.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(target, 0, request, head.length, target.length);
        System.arraycopy(tail, 0, request, head.length + target.length, tail.length);

        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), 5000)) {
            RawHttpClient.Response response = client.send(request).readResponse();
            assertEquals(400, response.status(), response.statusLine() + " " + response.bodyText());
        }
        assertEquals(0, backend.requests(), "requests forwarded");
    }

    /** {@code %XX} becomes the byte XX; everything else is taken as is. */
    private static byte[] unescape(String s) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }
}
