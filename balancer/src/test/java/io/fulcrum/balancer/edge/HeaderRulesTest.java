package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.fulcrum.balancer.config.HeadersConfig;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The request and response header rewriting of {@link HeaderRules}, table-driven. */
class HeaderRulesTest {
    private static HttpRequest request(HttpVersion version, String... headers) {
        HttpRequest r = new DefaultHttpRequest(version, HttpMethod.GET, "/x");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    static Stream<Arguments> hopByHop() {
        return Stream.of(
                arguments("connection", List.of("Connection", "keep-alive")),
                arguments("keep-alive", List.of("Keep-Alive", "timeout=5")),
                arguments("proxy-connection", List.of("Proxy-Connection", "keep-alive")),
                arguments("te", List.of("TE", "trailers")),
                arguments("trailer", List.of("Trailer", "X-Checksum")),
                arguments("upgrade", List.of("Upgrade", "websocket")),
                arguments("x-secret", List.of("Connection", "X-Secret", "X-Secret", "1")),
                arguments("x-b", List.of("Connection", "x-a , X-B", "X-A", "1", "X-B", "2")),
                arguments("x-c", List.of("Connection", "close", "Connection", "X-C", "X-C", "3")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hopByHop")
    void removesHopByHopHeadersFromRequests(String removed, List<String> headers) {
        HttpRequest r = request(HttpVersion.HTTP_1_1, headers.toArray(String[]::new));
        r.headers().add("Host", "a");
        HeaderRules.prepareRequest(r, "10.0.0.1", "id");
        assertFalse(r.headers().contains(removed), r.headers().toString());
        assertFalse(r.headers().contains("connection"));
        assertEquals("a", r.headers().get("host"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hopByHop")
    void removesHopByHopHeadersFromResponses(String removed, List<String> headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        for (int i = 0; i < headers.size(); i += 2) {
            r.headers().add(headers.get(i), headers.get(i + 1));
        }
        r.headers().add("Content-Length", "0");
        HeaderRules.prepareResponse(r, HttpVersion.HTTP_1_1, false, "id", null, "b1");
        assertFalse(r.headers().contains(removed), r.headers().toString());
        assertEquals("0", r.headers().get("content-length"));
    }

    @Test
    void connectionCannotRemoveHostOrContentLength() {
        HttpRequest r = request(HttpVersion.HTTP_1_1, "Host", "a", "Content-Length", "3", "Connection",
                "Host, Content-Length");
        HeaderRules.prepareRequest(r, "10.0.0.1", "id");
        assertEquals("a", r.headers().get("host"));
        assertEquals("3", r.headers().get("content-length"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "-                          | 10.0.0.1",
            "''                         | 10.0.0.1",
            "203.0.113.9                | 203.0.113.9, 10.0.0.1",
            "203.0.113.9, 198.51.100.2  | 203.0.113.9, 198.51.100.2, 10.0.0.1",
    })
    void appendsTheClientAddressToXForwardedFor(String given, String expected) {
        HttpRequest r = request(HttpVersion.HTTP_1_1, "Host", "a");
        if (given != null) {
            r.headers().add("X-Forwarded-For", given);
        }
        HeaderRules.prepareRequest(r, "10.0.0.1", "id");
        assertEquals(List.of(expected), r.headers().getAll("x-forwarded-for"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "203.0.113.9|false|shop.example|for=203.0.113.9;proto=http;host=shop.example",
        "2001:db8:0:0:0:0:0:5|true|shop.example|for=\"[2001:db8:0:0:0:0:0:5]\";proto=https;host=shop.example",
        "203.0.113.9|false|shop.example:8080|for=203.0.113.9;proto=http;host=\"shop.example:8080\"",
        "203.0.113.9|false|[::1]:8080|for=203.0.113.9;proto=http;host=\"[::1]:8080\"",
        "203.0.113.9|false||for=203.0.113.9;proto=http",
    })
    void theBalancersForwardedElementQuotesWhatIsNotAToken(String address, boolean tls, String host, String expected) {
        assertEquals(expected, HeaderRules.forwardedElement(address, tls, host));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        // trusted, mode, received, sent on
        "false|DROP|for=1.2.3.4|-",
        "true|DROP|for=1.2.3.4|for=1.2.3.4",
        "false|SET|for=1.2.3.4|for=10.0.0.1;proto=http;host=a",
        "true|SET|for=1.2.3.4|for=1.2.3.4, for=10.0.0.1;proto=http;host=a",
        "true|SET|-|for=10.0.0.1;proto=http;host=a",
    })
    void forwardedIsDroppedReplacedOrAppendedToByTrust(boolean trusted, HeadersConfig.Forwarded mode, String received,
            String expected) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        r.headers().set("Host", "a");
        if (received != null) {
            r.headers().set("Forwarded", received);
        }
        HeaderRules.prepareRequest(r, new HeaderRules.Hop("10.0.0.1", "10.0.0.1", false, "8080", trusted, mode), "id");
        assertEquals(expected, r.headers().get("Forwarded"));
    }

    @ParameterizedTest
    @CsvSource({"false, http, a, 8080", "true, https, b.example, 443"})
    void xForwardedProtoHostAndPortAreATrustedEdgesOrElseTheBalancers(boolean trusted, String proto, String host,
            String port) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        r.headers().set("Host", "a").set("X-Forwarded-Proto", "https").set("X-Forwarded-Host", "b.example")
                .set("X-Forwarded-Port", "443");
        HeaderRules.prepareRequest(r, new HeaderRules.Hop("10.0.0.1", "10.0.0.1", false, "8080", trusted,
                HeadersConfig.Forwarded.DROP), "id");
        assertEquals(proto, r.headers().get("X-Forwarded-Proto"));
        assertEquals(host, r.headers().get("X-Forwarded-Host"));
        assertEquals(port, r.headers().get("X-Forwarded-Port"));
    }

    @Test
    void anUntrustedXForwardedHostGoesWhenTheRequestHasNoHost() {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/");
        r.headers().set("X-Forwarded-Host", "bank.example").set("X-Forwarded-Port", "443");
        HeaderRules.prepareRequest(r, new HeaderRules.Hop("10.0.0.1", "10.0.0.1", false, null, false,
                HeadersConfig.Forwarded.DROP), "id");
        assertNull(r.headers().get("X-Forwarded-Host"));
        assertNull(r.headers().get("X-Forwarded-Port"));
    }

    @Test
    void keepsEveryLineOfAMultiLineXForwardedFor() {
        HttpRequest r = request(HttpVersion.HTTP_1_1, "Host", "a");
        r.headers().add("X-Forwarded-For", "203.0.113.9");
        r.headers().add("X-Forwarded-For", "198.51.100.2");
        HeaderRules.prepareRequest(r, "10.0.0.1", "id");
        assertEquals(List.of("203.0.113.9, 198.51.100.2, 10.0.0.1"), r.headers().getAll("x-forwarded-for"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "HTTP/1.1 | -          | 1.1 fulcrum",
            "HTTP/1.0 | -          | 1.0 fulcrum",
            "HTTP/1.1 | 1.1 edge   | 1.1 edge, 1.1 fulcrum",
    })
    void addsViaAndAlwaysForwardsHttp11(String version, String via, String expected) {
        HttpRequest r = request(HttpVersion.valueOf(version), "Host", "a");
        if (via != null) {
            r.headers().add("Via", via);
        }
        HeaderRules.prepareRequest(r, "10.0.0.1", "id");
        assertEquals(expected, r.headers().get("via"));
        assertEquals(HttpVersion.HTTP_1_1, r.protocolVersion());
    }

    @Test
    void setsForwardedProtoHostAndRequestId() {
        HttpRequest r = request(HttpVersion.HTTP_1_1, "Host", "shop.example:8443", "X-Forwarded-Proto", "https",
                "X-Forwarded-Host", "evil.example");
        HeaderRules.prepareRequest(r, "10.0.0.1", "req-7");
        HttpHeaders h = r.headers();
        assertEquals(List.of("http"), h.getAll("x-forwarded-proto"));
        assertEquals(List.of("shop.example:8443"), h.getAll("x-forwarded-host"));
        assertEquals(List.of("req-7"), h.getAll("x-request-id"));
    }

    @Test
    void keepsChunkedFramingOfARequest() {
        HttpRequest r = request(HttpVersion.HTTP_1_1, "Host", "a", "Transfer-Encoding", "chunked");
        HeaderRules.prepareRequest(r, "10.0.0.1", "id");
        assertEquals("chunked", r.headers().get("transfer-encoding"));
    }

    @ParameterizedTest(name = "{0} client, backend framing {1}, bodyless {2}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            // client  | backend framing | bodyless | expected TE | expected Connection
            "HTTP/1.1  | chunked         | false    | chunked     | -",
            "HTTP/1.1  | length          | false    | -           | -",
            "HTTP/1.1  | close           | false    | chunked     | -",
            "HTTP/1.0  | chunked         | false    | -           | keep-alive",
            "HTTP/1.0  | length          | false    | -           | keep-alive",
            "HTTP/1.1  | chunked         | true     | chunked     | -",
            "HTTP/1.1  | close           | true     | -           | -",
    })
    void choosesResponseFramingForTheClient(String client, String framing, boolean bodyless, String te,
            String connection) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (framing.equals("chunked")) {
            r.headers().add("Transfer-Encoding", "chunked");
        } else if (framing.equals("length")) {
            r.headers().add("Content-Length", "10");
        }
        boolean closeDelimited = HeaderRules.prepareResponse(r, HttpVersion.valueOf(client), bodyless, "id", null,
                "b1");
        assertEquals(te, r.headers().get("transfer-encoding"));
        assertEquals(!bodyless && te == null && !r.headers().contains("content-length"), closeDelimited,
                "close-delimited exactly when a body has neither length nor chunking");
        assertEquals(connection, r.headers().get("connection"));
        assertEquals(HttpVersion.HTTP_1_1, r.protocolVersion());
    }

    @Test
    void echoesTheRequestIdUnlessTheBackendSetOne() {
        HttpResponse plain = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HeaderRules.prepareResponse(plain, HttpVersion.HTTP_1_1, true, "req-1", null, "b1");
        assertEquals("req-1", plain.headers().get("x-request-id"));
        assertTrue(plain.headers().get("via").endsWith("fulcrum"));

        HttpResponse own = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        own.headers().add("X-Request-Id", "backend-id");
        HeaderRules.prepareResponse(own, HttpVersion.HTTP_1_1, true, "req-1", null, "b1");
        assertEquals("backend-id", own.headers().get("x-request-id"));
    }

    @Test
    void namesTheBackendOnlyWhenConfigured() {
        HttpResponse off = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HeaderRules.prepareResponse(off, HttpVersion.HTTP_1_1, true, "id", null, "b1");
        assertNull(off.headers().get("x-served-by"));
        HttpResponse on = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HeaderRules.prepareResponse(on, HttpVersion.HTTP_1_1, true, "id", AsciiString.of("x-served-by"), "b1");
        assertEquals("b1", on.headers().get("x-served-by"));
    }
}
