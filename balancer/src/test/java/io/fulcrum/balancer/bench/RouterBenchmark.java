package io.fulcrum.balancer.bench;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.fulcrum.balancer.route.Route;
import io.fulcrum.balancer.route.Router;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The route match of one request against 100 routes, as the frontend asks it: a request head
 * decoded by Fulcrum's own decoder (its headers read in place) and its Host field as the access
 * log already read it. The routes: 40 exact hosts, 20 {@code *.suffix} hosts, 30 path prefixes, 5
 * method and 5 header conditions, in that order, and no default pool. {@code request} picks which
 * is found: {@code exact} the 40th exact host, {@code suffix} the 20th suffix, {@code prefix} the
 * 30th prefix, {@code header} the 5th header route, {@code miss} none (all 100 tried, then 404).
 * Run with {@code scripts/jmh.sh RouterBenchmark -prof gc}: the match should allocate nothing
 * ({@code gc.alloc.rate.norm} about 0 B/op); the time is only meaningful on a quiet machine.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouterBenchmark {
    @Param({"exact", "suffix", "prefix", "header", "miss"})
    public String request;

    private Router<String> router;
    private HttpRequest head;
    private String host;

    @Setup
    public void setUp() throws ConfigException {
        StringBuilder yaml = new StringBuilder("pools:\n");
        for (int p = 0; p < 4; p++) {
            yaml.append("  p").append(p).append(": { backends: [{ id: b").append(p)
                    .append(", url: \"http://127.0.0.1:").append(9000 + p).append("\" }] }\n");
        }
        yaml.append("routes:\n");
        for (int i = 0; i < 40; i++) {
            yaml.append("  - { match: { host: h").append(i).append(".example.com }, pool: p").append(i % 4).append(" }\n");
        }
        for (int i = 0; i < 20; i++) {
            yaml.append("  - { match: { host: \"*.s").append(i).append(".example.org\" }, pool: p1 }\n");
        }
        for (int i = 0; i < 30; i++) {
            yaml.append("  - { match: { path: { prefix: /svc").append(i).append(" } }, pool: p2 }\n");
        }
        for (int i = 0; i < 5; i++) {
            yaml.append("  - { match: { methods: [M").append(i).append("] }, pool: p3 }\n");
        }
        for (int i = 0; i < 5; i++) {
            yaml.append("  - { match: { headers: [{ name: X-Route-").append(i).append(", value: on }] }, pool: p0 }\n");
        }
        BalancerConfig config = ConfigLoader.parse(yaml.toString(), "RouterBenchmark");
        router = Router.compile(config.routes(), config.defaultPool(), name -> name);
        String text = switch (request) {
            case "exact" -> "GET /posts?limit=20 HTTP/1.1\r\nHost: H39.example.com\r\n";
            case "suffix" -> "GET /posts HTTP/1.1\r\nHost: api.s19.example.org:8443\r\n";
            case "prefix" -> "GET /svc29/items/7?x=1 HTTP/1.1\r\nHost: app.example.net\r\n";
            case "header" -> "GET /posts HTTP/1.1\r\nHost: app.example.net\r\nX-Route-4: on\r\n";
            default -> "GET /nothing/here HTTP/1.1\r\nHost: app.example.net\r\nX-Route-4: off\r\n";
        };
        text += "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n"
                + "Accept: application/json\r\nCookie: session=4f2a9c0e1b7d\r\n\r\n";
        EmbeddedChannel decoder = new EmbeddedChannel(Http1Codec.server(8192, 8192, 65536));
        decoder.writeInbound(Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.ISO_8859_1)));
        head = decoder.readInbound();
        Object rest;
        while ((rest = decoder.readInbound()) != null) {
            ReferenceCountUtil.release(rest);
        }
        decoder.finishAndReleaseAll();
        host = head.headers().get(HttpHeaderNames.HOST);
        Route<String> r = router.route(head, host);
        String expected = switch (request) {
            case "exact" -> "routes[39]";
            case "suffix" -> "routes[59]";
            case "prefix" -> "routes[89]";
            case "header" -> "routes[99]";
            default -> "no-route";
        };
        if (!r.name().equals(expected)) {
            throw new IllegalStateException(request + ": matched " + r.name() + ", expected " + expected);
        }
    }

    @Benchmark
    public Route<String> route() {
        return router.route(head, host);
    }
}
