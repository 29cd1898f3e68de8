package io.fulcrum.balancer.exchange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.CompressionConfig;
import io.fulcrum.balancer.config.CompressionConfig.Encoding;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Curl;
import io.fulcrum.testing.Fixtures;
import io.netty.handler.codec.compression.Zstd;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Response compression through a real balancer, in front of the JDK's HTTP server as a backend:
 * the JDK's HttpClient and curl (HTTP/1.1 and HTTP/2) get gzip or zstd bodies that decode to what
 * the backend sent, with Vary and without Content-Length; what must go as it came does; and the
 * negotiation by Accept-Encoding and its q-values.
 */
class CompressionTest {
    private static final byte[] JSON = json(10_000);

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** A JSON document of about {@code size} bytes, repetitive as real JSON is. */
    static byte[] json(int size) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; b.length() < size - 80; i++) {
            b.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"author\":\"frank\",\"text\":\"hello ")
                    .append(i * 7919 % 1000).append("\"}");
        }
        return b.append(']').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The backend: one path per kind of response. */
    private HttpServer backend() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(2));
        server.createContext("/", x -> {
            String path = x.getRequestURI().getPath();
            String type = "application/json";
            byte[] body = JSON;
            boolean chunked = false;
            int status = 200;
            switch (path) {
                case "/chunked" -> chunked = true;
                case "/small" -> body = json(200);
                case "/png" -> type = "image/png";
                case "/no-transform" -> x.getResponseHeaders().set("Cache-Control", "public, no-transform");
                case "/encoded" -> x.getResponseHeaders().set("Content-Encoding", "br");
                case "/text" -> type = "text/csv; charset=utf-8";
                case "/empty" -> status = 204;
                default -> x.getResponseHeaders().set("ETag", "\"v1\"");
            }
            x.getResponseHeaders().set("Content-Type", type);
            answer(x, status, body, chunked);
        });
        server.start();
        fx.closeAfter(() -> {
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        });
        return server;
    }

    private static void answer(HttpExchange x, int status, byte[] body, boolean chunked) throws IOException {
        if (status == 204 || x.getRequestMethod().equals("HEAD")) {
            x.sendResponseHeaders(status, -1);
            x.close();
            return;
        }
        x.sendResponseHeaders(status, chunked ? 0 : body.length);
        try (OutputStream out = x.getResponseBody()) {
            // In several writes, so a chunked body comes in several chunks.
            for (int i = 0; i < body.length; i += 3000) {
                out.write(body, i, Math.min(3000, body.length - i));
                out.flush();
            }
        }
    }

    private Balancer balancer(HttpServer backend, String compression) throws Exception {
        return fx.balancer(BalancerYaml.create().backend("b1", backend.getAddress().getPort()).merge("routes:\n"
                + "  - match: { path: { prefix: /plain } }\n"
                + "    pool: default\n"
                + "  - pool: default\n"
                + "    compression: " + compression + "\n"));
    }

    private HttpResponse<byte[]> get(Balancer b, String path, String acceptEncoding) throws Exception {
        return send(b, path, "GET", acceptEncoding);
    }

    private HttpResponse<byte[]> send(Balancer b, String path, String method, String acceptEncoding)
            throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.port() + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
        if (acceptEncoding != null) {
            r.header("Accept-Encoding", acceptEncoding);
        }
        return client.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] gunzip(byte[] gz) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    @Test
    void aJsonResponseIsGzippedForAClientThatAcceptsGzip() throws Exception {
        Balancer b = balancer(backend(), "{ encodings: [gzip], types: [application/json] }");

        for (String path : List.of("/doc", "/chunked")) {
            HttpResponse<byte[]> r = get(b, path, "br;q=1.0, gzip;q=0.8");
            assertEquals(200, r.statusCode());
            assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(null), path);
            assertEquals(List.of("Accept-Encoding"), r.headers().allValues("Vary"), path);
            assertFalse(r.headers().firstValue("Content-Length").isPresent(), path + ": the length is unknown ahead");
            assertEquals("chunked", r.headers().firstValue("Transfer-Encoding").orElse(null), path);
            assertTrue(r.body().length < JSON.length / 3, path + ": " + r.body().length + " bytes");
            assertArrayEquals(JSON, gunzip(r.body()), path);
        }
        assertEquals("W/\"v1\"", get(b, "/doc", "gzip").headers().firstValue("ETag").orElse(null),
                "a strong validator turns weak");
    }

    @Test
    void whatMustGoAsItCameDoes() throws Exception {
        Balancer b = balancer(backend(), "{ types: [application/json], min-bytes: 1024 }");

        record Case(String path, String method, String acceptEncoding, boolean vary) {
        }
        for (Case c : List.of(new Case("/doc", "GET", null, true), new Case("/doc", "GET", "identity", true),
                new Case("/doc", "GET", "gzip;q=0, br", true), new Case("/doc", "GET", "gzip;q=0.5, identity", true),
                new Case("/doc", "HEAD", "gzip", false), new Case("/small", "GET", "gzip", false),
                new Case("/png", "GET", "gzip", false), new Case("/no-transform", "GET", "gzip", false),
                new Case("/encoded", "GET", "gzip", false), new Case("/empty", "GET", "gzip", false),
                new Case("/plain/doc", "GET", "gzip", false))) {
            HttpResponse<byte[]> r = send(b, c.path(), c.method(), c.acceptEncoding());
            String what = c.method() + " " + c.path() + " with " + c.acceptEncoding();
            assertEquals(c.path().equals("/encoded") ? "br" : null,
                    r.headers().firstValue("Content-Encoding").orElse(null), what);
            assertEquals(c.vary() ? List.of("Accept-Encoding") : List.of(), r.headers().allValues("Vary"), what);
            if (c.method().equals("GET") && !c.path().equals("/empty")) {
                assertEquals(c.path().equals("/small") ? json(200).length : JSON.length, r.body().length, what);
            }
        }
    }

    @Test
    void curlDecodesGzipAndZstdOverHttp11AndHttp2() throws Exception {
        Curl.requireInstalled();
        Balancer b = balancer(backend(), "{ encodings: [zstd, gzip] }");
        String url = "http://127.0.0.1:" + b.port() + "/chunked";
        boolean zstd = Zstd.isAvailable() && Curl.run("-V").contains("zstd");

        for (String version : List.of("--http1.1", "--http2-prior-knowledge")) {
            Path body = fx.dir().resolve("body");
            String headers = Curl.run(version, "--compressed", "-D", "-", "-o", body.toString(), url);
            assertTrue(headers.toLowerCase().contains("content-encoding: " + (zstd ? "zstd" : "gzip")),
                    version + ": " + headers);
            assertArrayEquals(JSON, Files.readAllBytes(body), version);
            String gzipOnly = Curl.run(version, "--compressed", "-H", "Accept-Encoding: gzip", "-D", "-", "-o",
                    body.toString(), url);
            assertTrue(gzipOnly.toLowerCase().contains("content-encoding: gzip"), version + ": " + gzipOnly);
            assertArrayEquals(JSON, Files.readAllBytes(body), version);
        }
    }

    @Test
    void theEncodingFollowsTheClientsQValuesThenTheOfferedOrder() {
        List<Encoding> both = List.of(Encoding.GZIP, Encoding.ZSTD);
        assertEquals(Encoding.GZIP, ResponseCompression.negotiate(both, "gzip, deflate, br"));
        assertEquals(Encoding.GZIP, ResponseCompression.negotiate(both, "*"), "a tie: the first offered");
        assertEquals(Encoding.GZIP, ResponseCompression.negotiate(both, "x-gzip"));
        assertEquals(Encoding.GZIP, ResponseCompression.negotiate(both, "GZIP;Q=0.1"));
        assertNull(ResponseCompression.negotiate(both, null), "no Accept-Encoding: as it came");
        assertNull(ResponseCompression.negotiate(both, ""));
        assertNull(ResponseCompression.negotiate(both, "gzip;q=0, *;q=0"));
        assertNull(ResponseCompression.negotiate(both, "br"));
        assertNull(ResponseCompression.negotiate(both, "gzip;q=0.4, identity;q=0.9"), "identity preferred");
        assertNull(ResponseCompression.negotiate(both, "gzip;q=abc"), "a malformed q is 0");
        if (Zstd.isAvailable()) {
            assertEquals(Encoding.ZSTD, ResponseCompression.negotiate(both, "gzip;q=0.5, zstd"));
            assertEquals(Encoding.ZSTD, ResponseCompression.negotiate(both, "gzip;q=0, *;q=0.3"));
            assertEquals(Encoding.ZSTD, ResponseCompression.negotiate(List.of(Encoding.ZSTD, Encoding.GZIP), "*"));
        }
    }

    @Test
    void mediaTypesMatchExactlyOrByTopLevelType() {
        List<String> types = List.of("application/json", "text/*");
        assertTrue(ResponseCompression.listedType(types, "application/json; charset=utf-8"));
        assertTrue(ResponseCompression.listedType(types, " Application/JSON"));
        assertTrue(ResponseCompression.listedType(types, "text/html"));
        assertFalse(ResponseCompression.listedType(types, "text/event-stream"), "event streams never");
        assertFalse(ResponseCompression.listedType(types, "application/jsonx"));
        assertFalse(ResponseCompression.listedType(types, "texts/html"));
        assertFalse(ResponseCompression.listedType(types, null));
    }

    @Test
    void aBadCompressionSectionIsRefusedWithItsFieldAndLine() throws ConfigException {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                backends: [{ id: b1, url: "http://127.0.0.1:9001" }]
                routes:
                  - pool: default
                    compression: { encodings: [gzip, brotli], types: [json], gzip-level: 12 }
                  - match: { path: { exact: /old } }
                    redirect: { to: /new }
                    compression: {}
                """, "test.yaml"));
        String text = String.join("\n", e.problems());
        assertTrue(text.contains("routes[0].compression.encodings[1]: unknown encoding \"brotli\""), text);
        assertTrue(text.contains("(line 4)"), text);
        assertTrue(text.contains("routes[0].compression.types[0]: not a media type: \"json\""), text);
        assertTrue(text.contains("routes[0].compression.gzip-level"), text);
        assertTrue(text.contains("routes[1].compression: only a route to pools compresses"), text);
        CompressionConfig defaults = ConfigLoader.parse("""
                backends: [{ id: b1, url: "http://127.0.0.1:9001" }]
                routes: [{ pool: default, compression: {} }]
                """, "test.yaml").routes().get(0).compression();
        assertEquals(new CompressionConfig(List.of(Encoding.GZIP), CompressionConfig.DEFAULT_TYPES, 1024, 6), defaults);
    }
}
