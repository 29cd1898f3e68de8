package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RequestValidator} on requests decoded by the same strict codec configuration the proxy
 * uses (with the obs-fold guard in front), in an {@link EmbeddedChannel}: raw request head in,
 * expected status out ({@code 0} means forwarded).
 */
class RequestValidatorTest {
    private static final long MAX_BODY = 1000;

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(Http1Codec.server(256, 1024, 65536));
    }

    /** Decodes {@code head} and validates the first request; returns the status or 0. */
    private static int statusOf(String head) {
        EmbeddedChannel ch = channel();
        try {
            ch.writeInbound(Unpooled.copiedBuffer(head.replace("|", "\r\n"), StandardCharsets.ISO_8859_1));
            Object first = ch.readInbound();
            assertNotNull(first, "nothing decoded from " + head);
            try {
                RequestValidator.Rejection r = RequestValidator.validate((HttpRequest) first, MAX_BODY);
                return r == null ? 0 : r.status().code();
            } finally {
                ReferenceCountUtil.release(first);
            }
        } finally {
            ch.releaseInbound();
            assertFalse(ch.finishAndReleaseAll());
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '~', value = {
            "GET / HTTP/1.1|Host: a||                                              ~ 0",
            "GET /x?y=1 HTTP/1.1|Host: a:8080||                                    ~ 0",
            "GET / HTTP/1.0||                                                      ~ 0",
            "POST / HTTP/1.1|Host: a|Content-Length: 1000||                        ~ 0",
            "POST / HTTP/1.1|Host: a|Content-Length: 1001||                        ~ 413",
            "POST / HTTP/1.1|Host: a|Content-Length: 5|Content-Length: 5||         ~ 400",
            "POST / HTTP/1.1|Host: a|Content-Length: 5|Content-Length: 6||         ~ 400",
            "POST / HTTP/1.1|Host: a|Content-Length: 5|Transfer-Encoding: chunked|| ~ 400",
            "POST / HTTP/1.1|Host: a|Transfer-Encoding: gzip||                     ~ 400",
            "POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked, gzip||            ~ 400",
            "POST / HTTP/1.1|Host: a|Transfer-Encoding: gzip, chunked||            ~ 0",
            "POST / HTTP/1.1|Host: a|Transfer-Encoding: xchunked||                 ~ 400",
            "POST / HTTP/1.0|Transfer-Encoding: chunked||                          ~ 400",
            "GET / HTTP/1.1||                                                      ~ 400",
            "GET / HTTP/1.1|Host: a|Host: a||                                      ~ 400",
            "GET / HTTP/1.1|Host: a/b||                                            ~ 400",
            "GET / HTTP/1.1|Host: a|X-F: 1|  2||                                   ~ 400",
            "GET / HTTP/1.1|Host: a|X-F : 1||                                      ~ 400",
            "GET / HTTP/2.0|Host: a||                                              ~ 505",
            "GET / HTTP/1.2|Host: a||                                              ~ 505",
            "CONNECT a:443 HTTP/1.1|Host: a:443||                                  ~ 405",
            "GET http://b.example/p HTTP/1.1|Host: a||                             ~ 0",
            "GET ftp://b.example/p HTTP/1.1|Host: a||                              ~ 400",
            "OPTIONS * HTTP/1.1|Host: a||                                          ~ 0",
            "GET * HTTP/1.1|Host: a||                                              ~ 400",
            "GET / HTTP/1.1|Host: a|Expect: 100-continue||                         ~ 0",
            "GET / HTTP/1.1|Host: a|Expect: something-else||                       ~ 417",
    })
    void decidesWhetherARequestMayBeForwarded(String head, int expected) {
        int status = statusOf(head.strip());
        if (expected == 505) {
            // Either refusal is acceptable for an unsupported version; it must never pass.
            assertFalse(status == 0, head);
        } else {
            assertEquals(expected, status, head);
        }
    }

    /** RFC 9112 section 3.2: a request-target with a control character, space or fragment is refused. */
    @ParameterizedTest
    @ValueSource(strings = {"/a\u0000b", "/a\u0001b", "/a\u001fb", "/a\u007fb", "/a\tb", "/a b", "/a#frag", "/#",
            "/caf\u00e9", "http://b.example/a\u0000"})
    void refusesARequestTargetWithControlCharactersSpaceOrFragment(String target) {
        assertEquals(400, statusOf("GET " + target + " HTTP/1.1|Host: a||"), target);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a%00b", "/a%23b", "/a?b=%20", "/~a-b._c!$&'()*+,;=:@/?", "/a?x=%C3%A9"})
    void forwardsAPrintableTarget(String target) {
        assertEquals(0, statusOf("GET " + target + " HTTP/1.1|Host: a||"), target);
    }

    @ParameterizedTest
    @ValueSource(ints = {300, 2000})
    void mapsOversizedRequestLinesAndHeadersTo414And431(int size) {
        assertEquals(414, statusOf("GET /" + "a".repeat(size) + " HTTP/1.1|Host: a||"));
        assertEquals(431, statusOf("GET / HTTP/1.1|Host: a|X-Big: " + "b".repeat(size * 4) + "||"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '~', value = {
            "http://b.example/p?q=1 ~ /p?q=1 ~ b.example",
            "http://b.example:81    ~ /      ~ b.example:81",
            "HTTP://b.example?x     ~ /?x    ~ b.example",
    })
    void rewritesAbsoluteFormToOriginForm(String target, String uri, String host) {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n",
                StandardCharsets.ISO_8859_1));
        HttpRequest r = ch.readInbound();
        assertNull(RequestValidator.validate(r, MAX_BODY));
        assertEquals(uri, r.uri());
        assertEquals(host, r.headers().get("host"));
        ch.releaseInbound();
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '~', value = {
            "a ~ true", "a.example:8080 ~ true", "[::1]:80 ~ true", "127.0.0.1 ~ true", " ~ true",
            "a b ~ false", "a:x ~ false", "a:123456 ~ false", "[::1 ~ false", "a/b ~ false", "a@b ~ false",
    })
    void validatesHostSyntax(String host, boolean valid) {
        assertEquals(valid, RequestValidator.isValidHost(host == null ? "" : host), host);
    }
}
