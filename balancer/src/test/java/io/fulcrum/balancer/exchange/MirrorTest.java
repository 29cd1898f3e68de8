package io.fulcrum.balancer.exchange;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.LoopbackServer;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A route's mirroring end to end: real balancer, a real backend, and a shadow that records what
 * it gets (or a dead or hung one), real HTTP/1.1 clients over loopback.
 */
class MirrorTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /** What the shadow received: "METHOD target body". */
    private final Queue<String> shadowed = new ConcurrentLinkedQueue<>();

    /** A shadow that records each request with its body and answers 500 (which nobody sees). */
    private LoopbackServer recordingShadow() throws InterruptedException {
        return fx.closeAfter(LoopbackServer.start(ch -> ch.pipeline().addLast(new HttpServerCodec(),
                new HttpObjectAggregator(1 << 20), new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                        shadowed.add(req.method() + " " + req.uri() + " " + req.content().toString(StandardCharsets.UTF_8));
                        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                HttpResponseStatus.INTERNAL_SERVER_ERROR, Unpooled.copiedBuffer("shadow", StandardCharsets.UTF_8));
                        HttpUtil.setContentLength(r, 6);
                        ctx.writeAndFlush(r);
                    }
                })));
    }

    /** A shadow that reads every request and never answers. */
    private LoopbackServer hungShadow() throws InterruptedException {
        return fx.closeAfter(LoopbackServer.start(ch -> ch.pipeline().addLast(new HttpServerCodec(),
                new SimpleChannelInboundHandler<Object>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                        // Read and dropped.
                    }
                })));
    }

    private Balancer balancer(ScriptedBackend main, int shadowPort, String mirror) throws Exception {
        return fx.balancer(BalancerYaml.forProxy().append("""
                pools:
                  main: { backends: [{ id: main-1, url: "http://127.0.0.1:%d" }] }
                  shadow:
                    backends: [{ id: shadow-1, url: "http://127.0.0.1:%d" }]
                    timeouts: { response: 60s }
                routes:
                  - name: api
                    pool: main
                    mirror: %s
                """.formatted(main.port(), shadowPort, mirror)));
    }

    private static HttpLoad.Request post(long seq) {
        return new HttpLoad.Request("POST", "/items/" + seq, Map.of("Content-Type", "text/plain"),
                ("body-" + seq).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theShadowGetsEachCopiedRequestWithItsBodyAndTheClientTheRealAnswer() throws Exception {
        ScriptedBackend main = fx.backend("main");
        LoopbackServer shadow = recordingShadow();
        Balancer balancer = balancer(main, shadow.port(), "{ pool: shadow, max-body-bytes: 100 }");
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(4).requests(40)
                .script(MirrorTest::post).run();
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(Map.of(200, 40), result.statuses(), result.summary());
        await().atMost(Fixtures.WAIT).until(() -> shadowed.size() == 40);
        for (int seq = 0; seq < 40; seq++) {
            assertTrue(shadowed.contains("POST /items/" + seq + " body-" + seq), seq + ": " + shadowed);
        }
        // A body past max-body-bytes is not copied, and is counted.
        HttpLoad.Result large = HttpLoad.to(balancer.port()).connections(1).requests(1)
                .script(seq -> new HttpLoad.Request("POST", "/large", Map.of(), new byte[101])).run();
        assertEquals(Map.of(200, 1), large.statuses(), large.summary());
        await().atMost(Fixtures.WAIT).untilAsserted(() -> {
            String metrics = fx.adminGet(balancer, "/metrics");
            assertEquals(40.0, mirrored(metrics, "answered"), metrics);
            assertEquals(1.0, mirrored(metrics, "too-large"), metrics);
        });
        assertEquals(40, shadowed.size(), "the large body was not copied: " + shadowed);
    }

    @Test
    void aPercentCopiesThatShareOfTheRequests() throws Exception {
        ScriptedBackend main = fx.backend("main");
        LoopbackServer shadow = recordingShadow();
        Balancer balancer = balancer(main, shadow.port(), "{ pool: shadow, percent: 25 }");
        Fixtures.getsWithoutFailures(balancer, "/", 4, 800);
        Balancer b = balancer;
        await().atMost(Fixtures.WAIT).untilAsserted(() -> assertEquals((double) shadowed.size(),
                mirrored(fx.adminGet(b, "/metrics"), "answered")));
        // 25% of 800 is 200, with a standard deviation of about 12.
        assertTrue(shadowed.size() > 140 && shadowed.size() < 260, shadowed.size() + " of 800 copied");
    }

    @Test
    void aHungShadowNeitherDelaysNorFailsTheRealRequests() throws Exception {
        ScriptedBackend main = fx.backend("main");
        LoopbackServer shadow = hungShadow();
        Balancer balancer = balancer(main, shadow.port(), "{ pool: shadow }");
        // The shadow holds each copy for its 60 s response timeout; a real request that waited
        // for its copy would miss the client's 5 s read timeout.
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(4).requests(200)
                .readTimeout(Duration.ofSeconds(5)).script(MirrorTest::post).run();
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(Map.of(200, 200), result.statuses(), result.summary());
        assertEquals(200, main.requests());
    }

    @Test
    void aDeadShadowNeitherDelaysNorFailsTheRealRequestsAndItsFailuresAreCounted() throws Exception {
        ScriptedBackend main = fx.backend("main");
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        Balancer balancer = balancer(main, dead, "{ pool: shadow }");
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(4).requests(100)
                .readTimeout(Duration.ofSeconds(5)).script(MirrorTest::post).run();
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(Map.of(200, 100), result.statuses(), result.summary());
        await().atMost(Fixtures.WAIT).untilAsserted(() -> {
            String metrics = fx.adminGet(balancer, "/metrics");
            assertEquals(100.0, mirrored(metrics, "failed") + mirrored(metrics, "no-backend"), metrics);
            assertTrue(mirrored(metrics, "failed") > 0, metrics);
        });
    }

    /** {@code fulcrum_mirror_requests_total} of route api, pool shadow and {@code result}; 0 when absent. */
    private static double mirrored(String metrics, String result) {
        for (String line : List.of(metrics.split("\n"))) {
            if (line.startsWith("fulcrum_mirror_requests_total{") && line.contains("result=\"" + result + "\"")
                    && line.contains("pool=\"shadow\"") && line.contains("route=\"api\"")) {
                Matcher m = Pattern.compile(" ([0-9.eE+-]+)$").matcher(line);
                assertTrue(m.find(), line);
                return Double.parseDouble(m.group(1));
            }
        }
        return 0;
    }
}
