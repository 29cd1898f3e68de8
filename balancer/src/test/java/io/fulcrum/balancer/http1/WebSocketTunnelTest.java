package io.fulcrum.balancer.http1;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.LoopbackServer;
import io.fulcrum.testing.WsListener;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * WebSocket through the balancer over real sockets, with the JDK's WebSocket client and a Netty
 * WebSocket server as the backend: messages both ways, the tunnel counted in the backend's load
 * while open, either side's close ending it, the tunnel idle timeout, and plain HTTP on the same
 * backend still answered normally.
 */
class WebSocketTunnelTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private LoopbackServer server;

    /** Echoes text frames as "echo: ..."; "close" makes it close the WebSocket; other paths get 200 "plain". */
    @BeforeEach
    void startBackend() throws InterruptedException {
        server = fx.closeAfter(LoopbackServer.start(ch -> ch.pipeline().addLast(new HttpServerCodec(),
                new HttpObjectAggregator(65536), new WebSocketServerProtocolHandler("/ws"),
                new SimpleChannelInboundHandler<Object>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof TextWebSocketFrame text) {
                            if (text.text().equals("close")) {
                                ctx.writeAndFlush(new CloseWebSocketFrame(1000, "bye")).addListener(f -> ctx.close());
                            } else {
                                ctx.writeAndFlush(new TextWebSocketFrame("echo: " + text.text()));
                            }
                        } else if (msg instanceof FullHttpRequest) {
                            DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                    HttpResponseStatus.OK, ctx.alloc().buffer().writeBytes("plain".getBytes()));
                            r.headers().setInt("content-length", 5);
                            ctx.writeAndFlush(r);
                        } else {
                            ReferenceCountUtil.retain(msg);
                            ctx.fireChannelRead(msg);
                        }
                    }
                })));
    }

    /** A balancer in front of the backend and a WebSocket opened through it. */
    private record Tunnel(Balancer balancer, WsListener listener, WebSocket ws) {
        /** How many requests the backend's load counts: an open tunnel is one. */
        int inFlight() {
            return balancer.registry().current().byId("ws").state().inFlight();
        }

        void awaitReleased() {
            await("tunnel released").atMost(Fixtures.WAIT).until(() -> inFlight() == 0);
        }
    }

    /** A tunnel through a balancer whose config is the backend's plus {@code extra}. */
    private Tunnel open(String extra) throws Exception {
        Balancer balancer = fx.balancer(BalancerYaml.create().backend("ws", server.port()).merge(extra));
        WsListener listener = new WsListener();
        WebSocket ws = listener.open(HttpClient.newHttpClient(), "ws://127.0.0.1:" + balancer.port() + "/ws");
        return new Tunnel(balancer, listener, ws);
    }

    @Test
    void messagesFlowBothWaysAndTheTunnelCountsInTheBackendsLoad() throws Exception {
        Tunnel t = open("");

        for (int i = 0; i < 3; i++) {
            t.ws().sendText("m" + i, true).get(10, TimeUnit.SECONDS);
        }
        await("echoes").atMost(Fixtures.WAIT).until(() -> t.listener().messages().size() == 3);
        assertEquals(List.of("echo: m0", "echo: m1", "echo: m2"), t.listener().messages());
        assertEquals(1, t.inFlight(), "an open tunnel is load");

        t.ws().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        await("closed").atMost(Fixtures.WAIT).until(t.listener().closed()::isDone);
        t.awaitReleased();

        HttpResponse<String> plain = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + t.balancer().port() + "/other")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, plain.statusCode());
        assertEquals("plain", plain.body());
    }

    @Test
    void theBackendClosingEndsTheTunnel() throws Exception {
        Tunnel t = open("");
        t.ws().sendText("close", true).get(10, TimeUnit.SECONDS);
        assertEquals(1000, t.listener().closed().get(20, TimeUnit.SECONDS));
        t.awaitReleased();
    }

    @Test
    void anIdleTunnelIsClosedAfterTunnelIdle() throws Exception {
        Tunnel t = open("timeouts: { tunnel-idle: 500ms }");
        WsListener listener = t.listener();
        t.ws().sendText("ping", true).get(10, TimeUnit.SECONDS);
        await("echo").atMost(Fixtures.WAIT).until(() -> listener.messages().size() == 1);

        // Nothing more is sent either way: the balancer closes both connections.
        listener.closed().get(20, TimeUnit.SECONDS);
        await("backend side closed").atMost(Fixtures.WAIT)
                .until(() -> server.accepted().stream().noneMatch(Channel::isActive));
        assertTrue(listener.closed().isDone());
    }
}
