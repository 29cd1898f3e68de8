package io.fulcrum.balancer.websocket;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.tls.TestCertificates;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.WsListener;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole tunnel proved with a WebSocket client and server that are not Fulcrum's: the Node
 * {@code ws} package on both ends ({@link NodeWs}), and the JDK's client where a test needs to act
 * between messages. On the cleartext listener and on the TLS one ({@code wss://}): a server's
 * greeting sent with its 101, thousands of messages each way in order, messages of 16 MiB,
 * pings, pongs, fragments and every close code with a reason passed through, 200 tunnels at once,
 * a backend that dies mid-tunnel, and reloads with tunnels open.
 */
class WsThroughBalancerTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private NodeWs.Server server;
    private Path certs;

    @BeforeEach
    void startServer() throws Exception {
        NodeWs.require();
        server = fx.closeAfter(NodeWs.Server.start());
        certs = TestCertificates.copyTo(fx.dir().resolve("certs"), "ca.pem", "localhost.pem", "localhost.key");
    }

    /** Backends ws1, ws2, ... at {@code backendPorts}, and a TLS listener. */
    private BalancerYaml config(int... backendPorts) {
        BalancerYaml yaml = BalancerYaml.create();
        for (int i = 0; i < backendPorts.length; i++) {
            yaml.backend("ws" + (i + 1), backendPorts[i]);
        }
        return withTls(yaml);
    }

    private BalancerYaml withTls(BalancerYaml yaml) {
        return yaml.merge("tls:\n  listen: { host: 127.0.0.1, port: 0 }\n  cert: " + certs.resolve("localhost.pem")
                + "\n  key: " + certs.resolve("localhost.key") + "\n");
    }

    private JsonNode run(String scenario, boolean tls) throws Exception {
        Balancer b = fx.balancer(config(server.port()));
        return tls ? NodeWs.client(scenario, "wss://127.0.0.1:" + b.tlsPort(), certs.resolve("ca.pem"))
                : NodeWs.client(scenario, "ws://127.0.0.1:" + b.port(), null);
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void aGreetingSentWithThe101ReachesTheClientAfterIt(boolean tls) throws Exception {
        JsonNode r = run("greet", tls);

        assertEquals(20, r.get("upgrades").size());
        for (int i = 0; i < 20; i++) {
            assertEquals(List.of("welcome", "second", "hi " + i), strings(r.get("upgrades").get(i)), "upgrade " + i);
        }
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void thousandsOfMessagesEachWayArriveAllAndInOrder(boolean tls) throws Exception {
        JsonNode r = run("order", tls);

        assertEquals(5000, r.get("echoed").asInt(), "client to server and back");
        assertEquals(-1, r.get("echoOutOfOrder").asInt(), "first echo out of order");
        assertEquals(5000, r.get("burst").asInt(), "sent by the server as soon as the socket opened");
        assertEquals(-1, r.get("burstOutOfOrder").asInt(), "first burst message out of order");
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void messagesFarLargerThanAnyBufferPassIntact(boolean tls) throws Exception {
        JsonNode r = run("large", tls);

        int size = 16 * 1024 * 1024;
        String expected = sha256Pattern(size);
        assertEquals(expected, r.get("sentSha256").asText(), "the client sent the pattern");
        assertEquals(size, r.get("echoedLength").asInt());
        assertEquals(expected, r.get("echoedSha256").asText(), "16 MiB client to server and back");
        assertTrue(r.get("textEchoed").asBoolean(), "4 MiB of text client to server and back");
        assertEquals(size, r.get("receivedLength").asInt());
        assertEquals(expected, r.get("receivedSha256").asText(), "16 MiB server to client");
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void controlFramesFragmentsAndEveryCloseCodeWithItsReasonPassThrough(boolean tls) throws Exception {
        JsonNode r = run("control", tls);

        assertEquals(List.of("are you there", "between fragments"), strings(r.get("pongs")));
        assertEquals("part1-part2-end", r.get("fragmented").asText(), "fragments with a ping between them");
        await("the server's ping answered").atMost(Fixtures.WAIT).until(() -> server.events("pong").size() == 1);
        assertEquals("from-server", server.events("pong").get(0).get("data").asText());

        List<JsonNode> fromServer = new ArrayList<>();
        r.get("fromServer").forEach(fromServer::add);
        List<JsonNode> fromClient = new ArrayList<>();
        r.get("fromClient").forEach(fromClient::add);
        assertEquals(15, fromServer.size());
        for (JsonNode close : fromServer) {
            int code = close.get("code").asInt();
            assertEquals("server " + code + " \u2713", close.get("reason").asText(), "the server's close " + code);
        }
        // What the server received, per code the client closed with.
        await("every client close reached the server").atMost(Fixtures.WAIT).until(() ->
                server.events("close").stream().filter(e -> e.get("path").asText().equals("/echo")).count() >= 16);
        for (JsonNode sent : fromClient) {
            int code = sent.get("code").asInt();
            assertTrue(server.events("close").stream().anyMatch(e -> e.get("code").asInt() == code
                    && e.get("reason").asText().equals("client " + code + " \u2713")), "client close " + code);
        }
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void twoHundredTunnelsAtOnceEachKeepTheirOwnMessages(boolean tls) throws Exception {
        JsonNode r = run("many", tls);

        assertEquals(200, r.get("tunnels").asInt());
        assertEquals(200, r.get("intact").asInt(), () -> "failures: " + r.get("failures"));
    }

    @Test
    void aBackendThatDiesMidTunnelEndsItsTunnelsAndNothingElse() throws Exception {
        NodeWs.Server doomed = fx.closeAfter(NodeWs.Server.start());
        Balancer b = fx.balancer(config(doomed.port()));
        Ws ws = open(b, "/echo");
        assertEquals("before", ws.roundTrip("before"));
        assertEquals(1, inFlight(b, "ws1"));

        doomed.kill();

        // No close frame came: the client sees its connection end (1006, RFC 6455 section 7.1.5).
        assertEquals(1006, ws.closeCode(), "the client's tunnel ended abnormally");
        await("the tunnel's slot freed").atMost(Fixtures.WAIT).until(() -> inFlight(b, "ws1") == 0);
        // The balancer goes on: a reload to a live backend, and a new tunnel works.
        fx.reload(config(server.port()));
        assertEquals("after", open(b, "/echo").roundTrip("after"));
    }

    @Test
    void openTunnelsKeepWorkingAcrossReloads() throws Exception {
        NodeWs.Server other = fx.closeAfter(NodeWs.Server.start());
        Balancer b = fx.balancer(config(server.port()));
        Ws plain = open(b, "/echo");
        Ws secure = Ws.open("wss://127.0.0.1:" + b.tlsPort() + "/echo");

        // A reload that keeps the tunnels' backend (and adds one): they go on as if nothing happened.
        fx.reload(config(server.port(), other.port()).set("timeouts.response", Duration.ofSeconds(7)));
        String kept = "after a reload that keeps the backend";
        assertEquals(kept, plain.roundTrip(kept));
        assertEquals("over TLS too", secure.roundTrip("over TLS too"));
        assertEquals(2, inFlight(b, "ws1"), "both tunnels still count");

        // A reload that removes it: the backend drains like any other, and what it holds, its
        // open tunnels included, goes on until either side ends it; new requests go elsewhere.
        BalancerYaml withoutIt = withTls(BalancerYaml.create().backend("ws2", other.port()));
        fx.reload(withoutIt);
        String removed = "after a reload that removes the backend";
        assertEquals(removed, plain.roundTrip(removed));
        Ws fresh = open(b, "/greet");
        assertEquals("welcome", fresh.listener().next());
        await("the new tunnel is on the remaining backend").atMost(Fixtures.WAIT).until(() -> inFlight(b, "ws2") == 1);

        for (Ws ws : List.of(plain, secure, fresh)) {
            ws.socket().sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
        }
        for (Ws ws : List.of(plain, secure, fresh)) {
            assertEquals(1000, ws.closeCode());
        }
    }

    /** A client WebSocket and the listener it delivers to. */
    private record Ws(WsListener listener, WebSocket socket) {
        /** Opens {@code url} with the JDK's client, trusting the test CA for {@code wss://}. */
        static Ws open(String url) throws Exception {
            WsListener listener = new WsListener();
            return new Ws(listener, listener.open(wsClient(), url));
        }

        String roundTrip(String text) throws Exception {
            return listener.roundTrip(socket, text);
        }

        /** The code the connection closed with, waiting for it. */
        int closeCode() throws Exception {
            return listener.closed().get(20, TimeUnit.SECONDS);
        }
    }

    /** Opens {@code ws://} {@code path} on the balancer's plain port. */
    private static Ws open(Balancer b, String path) throws Exception {
        return Ws.open("ws://127.0.0.1:" + b.port() + path);
    }

    /** The requests backend {@code id} holds, an open tunnel counting as one. */
    private static int inFlight(Balancer b, String id) {
        return b.registry().current().byId(id).state().inFlight();
    }

    /** The JDK's client, trusting the test CA for {@code wss://}. */
    private static HttpClient wsClient() throws Exception {
        return HttpClient.newBuilder().sslContext(TestCertificates.trustingTestCa()).build();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The SHA-256 of the pattern both scripts send: byte i is i * 31 mod 256. */
    private static String sha256Pattern(int size) throws Exception {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31);
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
