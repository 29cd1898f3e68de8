package io.fulcrum.balancer.resilience;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.ScriptedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A POST that reached a backend is retried only with an Idempotency-Key (DESIGN.md, "How a
 * request is routed", rule 5). The first backend breaks the connection after reading the request;
 * counting the POSTs each backend received shows what was replayed.
 */
class PostRetryTest {
    private static final int POSTS = 12;
    private static final String BODY = "{\"author\":\"frank\",\"text\":\"hello\"}";

    @RegisterExtension
    static final WireMockExtension broken = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();
    @RegisterExtension
    static final WireMockExtension good = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private Balancer balancer;

    @BeforeEach
    void start() throws Exception {
        for (WireMockExtension wm : new WireMockExtension[] {broken, good}) {
            wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withBody("{\"load\":0.1}")));
        }
        good.stubFor(post("/posts").willReturn(aResponse().withStatus(201).withBody("{\"id\":1}")));
        start(broken.getPort(), "");
    }

    private void start(int brokenPort, String retry) throws Exception {
        if (balancer != null) {
            balancer.close();
        }
        // fall: 1000 keeps a dead backend routable, so requests keep meeting it.
        balancer = BalancerYaml.activeChecks().backend("broken", brokenPort).backend("good", good.getPort()).merge("""
                routing: { slow-start: 0s }
                health: { path: /health, interval: 100ms, timeout: 2s, rise: 1, fall: 1000 }
                outlier: { consecutive-failures: 1000 }
                retry: { attempts: 2, budget-percent: 100 RETRY }
                """.replace(" RETRY", retry)).start();
        await().atMost(Duration.ofSeconds(20)).until(balancer::ready);
    }

    @AfterEach
    void stop() throws Exception {
        balancer.close();
    }

    private HttpResponse<String> sendPost(String idempotencyKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/posts"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY));
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE"})
    void aPostWithoutIdempotencyKeyIsNotRetriedOnceItReachedABackend(Fault fault) throws Exception {
        broken.stubFor(post("/posts").willReturn(aResponse().withFault(fault)));
        int badGateway = 0;
        int created = 0;
        for (int i = 0; i < POSTS; i++) {
            int status = sendPost(null).statusCode();
            if (status == 502) {
                badGateway++;
            } else if (status == 201) {
                created++;
            }
        }
        int atBroken = broken.findAll(postRequestedFor(urlEqualTo("/posts"))).size();
        int atGood = good.findAll(postRequestedFor(urlEqualTo("/posts"))).size();
        assertTrue(atBroken > 0, "precondition: some POSTs went to the broken backend");
        assertEquals(POSTS, atBroken + atGood, "every POST reached exactly one backend");
        assertEquals(atBroken, badGateway, "each POST the broken backend took is a 502 to the client");
        assertEquals(atGood, created);
    }

    @Test
    void aPostThatNeverReachedABackendIsRetriedWithoutAKey() throws Exception {
        try (ScriptedBackend dead = ScriptedBackend.start("dead")) {
            start(dead.port(), "");
            // Killed after its first health check passed; with fall: 1000 it stays routable.
            dead.kill();
            for (int i = 0; i < POSTS; i++) {
                assertEquals(201, sendPost(null).statusCode(), "connection refused is retried whatever the method");
            }
            assertTrue(balancer.registry().current().byId("broken").state().errors() > 0,
                    "precondition: some POSTs met the dead backend first");
            good.verify(POSTS, postRequestedFor(urlEqualTo("/posts")).withRequestBody(equalToJson(BODY)));
        }
    }

    @Test
    void aBodyLargerThanTheReplayLimitIsNotRetriedOnceSent() throws Exception {
        start(broken.getPort(), ", replay-body-bytes: 16");
        broken.stubFor(post("/posts").willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
        int badGateway = 0;
        for (int i = 0; i < POSTS; i++) {
            if (sendPost("big-" + i).statusCode() == 502) {
                badGateway++;
            }
        }
        int atBroken = broken.findAll(postRequestedFor(urlEqualTo("/posts"))).size();
        assertTrue(atBroken > 0, "precondition: some POSTs went to the broken backend");
        assertEquals(atBroken, badGateway, "a body that was not kept cannot be replayed");
        assertEquals(POSTS, atBroken + good.findAll(postRequestedFor(urlEqualTo("/posts"))).size());
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE"})
    void aPostWithIdempotencyKeyIsRetriedAndCreatedExactlyOnce(Fault fault) throws Exception {
        broken.stubFor(post("/posts").willReturn(aResponse().withFault(fault)));
        for (int i = 0; i < POSTS; i++) {
            assertEquals(201, sendPost("key-" + fault + "-" + i).statusCode());
        }
        assertTrue(broken.findAll(postRequestedFor(urlEqualTo("/posts"))).size() > 0,
                "precondition: some POSTs went to the broken backend first");
        for (int i = 0; i < POSTS; i++) {
            good.verify(1, postRequestedFor(urlEqualTo("/posts"))
                    .withHeader("Idempotency-Key", equalTo("key-" + fault + "-" + i))
                    .withRequestBody(equalToJson(BODY)));
        }
        good.verify(POSTS, postRequestedFor(urlEqualTo("/posts")));
    }
}
