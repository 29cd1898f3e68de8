package io.fulcrum.balancer.health;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.BackendProtocol;
import io.fulcrum.balancer.config.BackendTlsConfig;
import io.fulcrum.balancer.tls.BackendTls;
import io.fulcrum.balancer.tls.TestCertificates;
import io.fulcrum.testing.LoopbackServer;
import io.fulcrum.testing.H2Backend;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HttpHealthCheckerTest {
    @RegisterExtension
    static final WireMockExtension wm = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static HealthCheckResult check(Duration timeout, int port) throws Exception {
        HttpHealthChecker checker = new HttpHealthChecker(group, NioSocketChannel.class, "/health", timeout);
        Backend b = HealthFixtures.backend("b1", port, NanoClock.SYSTEM);
        return checker.check(b).get(10, TimeUnit.SECONDS);
    }

    private static HealthCheckResult check() throws Exception {
        return check(Duration.ofSeconds(2), wm.getPort());
    }

    @Test
    void a2xxWithAJsonLoadIsHealthyAndCarriesTheLoad() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"status\":\"UP\",\"node\":\"n1\",\"inFlight\":3,\"load\":0.42}")));
        HealthCheckResult r = check();
        assertTrue(r.healthy());
        assertEquals(200, r.status());
        assertTrue(r.hasLoad());
        assertEquals(0.42, r.load(), 1e-9);
        wm.verify(1, getRequestedFor(urlEqualTo("/health"))
                .withHeader("Host", equalTo("127.0.0.1:" + wm.getPort())));
    }

    /** Answers judged by their status alone: healthy, and no load taken from them. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            "a 204 without a body | 204 | none",
            "a plain-text body is judged by its status | 200 | OK",
            "a load that is not a number is ignored | 200 | {\"load\":\"high\"}",
    })
    void isHealthyWithoutALoad(String what, int status, String body) throws Exception {
        ResponseDefinitionBuilder answer = aResponse().withStatus(status);
        wm.stubFor(get("/health").willReturn(body == null ? answer : answer.withBody(body)));
        HealthCheckResult r = check();
        assertTrue(r.healthy(), what);
        assertFalse(r.hasLoad(), what);
    }

    @Test
    void a5xxIsUnhealthy() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(503)
                .withBody("{\"status\":\"DOWN\",\"load\":1.0}")));
        HealthCheckResult r = check();
        assertFalse(r.healthy());
        assertEquals(503, r.status());
    }

    @Test
    void a3xxIsUnhealthy() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(302).withHeader("Location", "/elsewhere")));
        assertFalse(check().healthy());
    }

    @Test
    void noAnswerWithinTheTimeoutIsUnhealthy() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withFixedDelay(1_500)));
        HealthCheckResult r = check(Duration.ofMillis(200), wm.getPort());
        assertFalse(r.healthy());
        assertEquals(0, r.status());
        assertTrue(r.detail().contains("timed out"), r.detail());
    }

    @Test
    void aResetConnectionIsUnhealthy() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
        assertFalse(check().healthy());
    }

    @Test
    void garbageInsteadOfHttpIsUnhealthy() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE)));
        assertFalse(check().healthy());
    }

    @Test
    void anOversizedBodyIsUnhealthy() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200)
                .withBody("x".repeat(HttpHealthChecker.MAX_BODY_BYTES + 1))));
        assertFalse(check().healthy());
    }

    @Test
    void aRefusedConnectionIsUnhealthy() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        HealthCheckResult r = check(Duration.ofSeconds(2), closedPort);
        assertFalse(r.healthy());
        assertTrue(r.detail().startsWith("connect failed"), r.detail());
    }

    @Test
    void anH2cBackendIsProbedOverHttp2AndJudgedByItsStatus() throws Exception {
        try (H2Backend h2 = H2Backend.h2c(100)) {
            HttpHealthChecker checker = new HttpHealthChecker(group, NioSocketChannel.class, "/health",
                    Duration.ofSeconds(5));
            Backend b = new Backend(HealthFixtures.config("b1", h2.port()).withProtocol(BackendProtocol.H2C),
                    new BackendState(NanoClock.SYSTEM));
            HealthCheckResult up = checker.check(b).get(10, TimeUnit.SECONDS);
            assertTrue(up.healthy(), up.toString());
            assertEquals(200, up.status());
            assertEquals(1, h2.streams("/health"));

            h2.status("/health", 503);
            HealthCheckResult down = checker.check(b).get(10, TimeUnit.SECONDS);
            assertFalse(down.healthy(), down.toString());
            assertEquals(503, down.status());
            assertEquals("HTTP 503 Service Unavailable", down.detail());
        }
    }

    @Test
    void anAutoBackendThatAgreesToH2ByAlpnIsProbedOverHttp2(@TempDir Path dir) throws Exception {
        Path certs = TestCertificates.copyTo(dir, "ca.pem", "localhost.pem", "localhost.key");
        try (H2Backend h2 = H2Backend.h2(SslContextBuilder.forServer(certs.resolve("localhost.pem").toFile(),
                certs.resolve("localhost.key").toFile()).applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)).build())) {
            HttpHealthChecker checker = new HttpHealthChecker(group, NioSocketChannel.class, "/health",
                    Duration.ofSeconds(5), new BackendTls(new BackendTlsConfig(certs.resolve("ca.pem"), null)));
            Backend b = new Backend(new BackendConfig("b1", "localhost", h2.port(), "local", 1, 1000, true,
                    BackendProtocol.AUTO), new BackendState(NanoClock.SYSTEM));
            HealthCheckResult r = checker.check(b).get(10, TimeUnit.SECONDS);
            assertTrue(r.healthy(), r.toString());
            assertEquals(1, h2.streams("/health"), "asked over HTTP/2");
        }
    }

    @Test
    void anAutoBackendThatChoosesHttp1ByAlpnIsProbedOverHttp1(@TempDir Path dir) throws Exception {
        Path certs = TestCertificates.copyTo(dir, "ca.pem", "localhost.pem", "localhost.key");
        SslContext tls = SslContextBuilder.forServer(certs.resolve("localhost.pem").toFile(),
                certs.resolve("localhost.key").toFile()).applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_1_1)).build();
        AtomicReference<String> asked = new AtomicReference<>();
        try (LoopbackServer server = LoopbackServer.start(ch -> ch.pipeline().addLast(tls.newHandler(ch.alloc()),
                new HttpServerCodec(), new HttpObjectAggregator(1024), new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                        asked.set(request.protocolVersion() + " " + request.uri());
                        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                                Unpooled.EMPTY_BUFFER)).addListener(ChannelFutureListener.CLOSE);
                    }
                }))) {
            HttpHealthChecker checker = new HttpHealthChecker(group, NioSocketChannel.class, "/health",
                    Duration.ofSeconds(5), new BackendTls(new BackendTlsConfig(certs.resolve("ca.pem"), null)));
            Backend b = new Backend(new BackendConfig("b1", "localhost", server.port(), "local", 1, 1000, true,
                    BackendProtocol.AUTO), new BackendState(NanoClock.SYSTEM));
            HealthCheckResult r = checker.check(b).get(10, TimeUnit.SECONDS);
            assertTrue(r.healthy(), r.toString());
            assertEquals("HTTP/1.1 /health", asked.get());
        }
    }
}
