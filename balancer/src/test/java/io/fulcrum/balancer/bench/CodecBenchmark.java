package io.fulcrum.balancer.bench;

import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The HTTP/1.1 work of one proxied request, without sockets: the client's request decoded, its
 * headers rewritten ({@link HeaderRules}) and encoded for the backend, the backend's response
 * decoded, rewritten and encoded for the client. {@code codec=fulcrum} uses Fulcrum's decoder and
 * encoder ({@link Http1Codec}); {@code codec=netty} Netty's server and client codecs with the
 * keep-alive handler, as the balancer used before. {@code request=wrk} is the request wrk sends
 * and nginx's answer to it; {@code request=browser} a browser's request with a dozen fields.
 * Run with {@code scripts/jmh.sh CodecBenchmark -prof gc}: the allocation rate per operation is
 * exact even on a busy machine, where times are not.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {
    private static final String RESPONSE = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
            + "Date: Mon, 30 Nov 2026 12:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
            + "Connection: keep-alive\r\n\r\nhello\n";
    private static final String WRK = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
    private static final String BROWSER = "GET /posts?limit=20 HTTP/1.1\r\nHost: app.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n"
            + "Accept: application/json\r\nAccept-Language: en-GB,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
            + "Referer: https://app.example.com/\r\nConnection: keep-alive\r\nCookie: session=4f2a9c0e1b7d; theme=dark\r\n"
            + "Sec-Fetch-Dest: empty\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: same-origin\r\nPriority: u=4\r\n"
            + "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n\r\n";

    @Param({"fulcrum", "netty"})
    public String codec;

    @Param({"wrk", "browser"})
    public String request;

    private EmbeddedChannel client;
    private EmbeddedChannel backend;
    private ByteBuf requestBytes;
    private ByteBuf responseBytes;

    @Setup(Level.Trial)
    public void setUp() {
        if (codec.equals("fulcrum")) {
            client = new EmbeddedChannel(Http1Codec.server(8192, 8192, 65536));
            backend = new EmbeddedChannel(Http1Codec.client(8192, 65536, 65536));
        } else {
            HttpDecoderConfig strict = new HttpDecoderConfig().setStrictLineParsing(true).setValidateHeaders(true);
            client = new EmbeddedChannel(new HttpServerCodec(strict), new HttpServerKeepAliveHandler());
            backend = new EmbeddedChannel(new HttpClientCodec());
        }
        requestBytes = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(
                (request.equals("wrk") ? WRK : BROWSER).getBytes(StandardCharsets.ISO_8859_1)));
        responseBytes = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(
                RESPONSE.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        client.finishAndReleaseAll();
        backend.finishAndReleaseAll();
    }

    @Benchmark
    public int proxyOneRequest() {
        client.writeInbound(requestBytes.duplicate());
        HttpRequest head = client.readInbound();
        HttpContent end = client.readInbound();
        HeaderRules.prepareRequest(head, "127.0.0.1", "0123456789abcdef0123456789abcdef");
        backend.writeOutbound(head, end);
        int bytes = drain(backend);
        backend.writeInbound(responseBytes.duplicate());
        HttpResponse response = backend.readInbound();
        HttpContent body = backend.readInbound();
        HeaderRules.prepareResponse(response, HttpVersion.HTTP_1_1, false, "0123456789abcdef0123456789abcdef", null,
                "b1");
        client.writeOutbound(response, body);
        return bytes + drain(client);
    }

    private static int drain(EmbeddedChannel ch) {
        int n = 0;
        Object o;
        while ((o = ch.readOutbound()) != null) {
            n += ((ByteBuf) o).readableBytes();
            ReferenceCountUtil.release(o);
        }
        return n;
    }
}
