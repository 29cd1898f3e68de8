package io.fulcrum.balancer.resilience;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.RawHttpClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each way a backend can break gives the client the status STYLE.md rule 26 names, and leaves the
 * client connection usable (or closed, once the response had begun). One backend, so every retry
 * lands on it again and the final status is the failure's own.
 */
class BackendFaultTest {
    @RegisterExtension
    static final WireMockExtension wm = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private static Balancer balancer;

    @BeforeAll
    static void start() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200)));
        balancer = BalancerYaml.activeChecks().backend("b1", wm.getPort()).merge("""
                health: { path: /health, interval: 100ms, timeout: 2s, rise: 1, fall: 1000 }
                outlier: { consecutive-failures: 1000 }
                retry: { attempts: 1, budget-percent: 100, per-try-timeout: 300ms }
                """).start();
        await().atMost(Duration.ofSeconds(20)).until(balancer::ready);
    }

    @AfterAll
    static void stop() throws Exception {
        balancer.close();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "CONNECTION_RESET_BY_PEER, 502",
        "EMPTY_RESPONSE, 502",
        "RANDOM_DATA_THEN_CLOSE, 502",
    })
    void aBrokenConnectionBeforeTheResponseIs502AndTheClientConnectionStaysUsable(Fault fault, int status)
            throws Exception {
        String path = "/fault/" + fault;
        wm.stubFor(get(path).willReturn(aResponse().withFault(fault)));
        wm.stubFor(get("/ok").willReturn(aResponse().withStatus(200).withBody("fine")));
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            RawHttpClient.Response r = c.getAllowingCut(path);
            assertEquals(status, r.status());
            assertTrue(r.complete(), "a complete error response");
            RawHttpClient.Response next = c.getAllowingCut("/ok");
            assertEquals(200, next.status(), "the same connection serves the next request");
            assertEquals("fine", next.bodyText());
        }
        wm.verify(2, getRequestedFor(urlEqualTo(path))); // a GET is retried once (attempts: 1)
    }

    @Test
    void noResponseWithinThePerTryTimeoutIs504AndTheClientConnectionStaysUsable() throws Exception {
        wm.stubFor(get("/slow").willReturn(aResponse().withStatus(200).withFixedDelay(1_500)));
        wm.stubFor(get("/ok").willReturn(aResponse().withStatus(200).withBody("fine")));
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            RawHttpClient.Response r = c.getAllowingCut("/slow");
            assertEquals(504, r.status());
            assertTrue(r.complete());
            assertEquals(200, c.getAllowingCut("/ok").status());
        }
    }

    @Test
    void aBrokenBodyAfterTheResponseBeganClosesTheClientConnection() throws Exception {
        wm.stubFor(get("/chunk").willReturn(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)));
        wm.stubFor(get("/ok").willReturn(aResponse().withStatus(200).withBody("fine")));
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            RawHttpClient.Response r = c.getAllowingCut("/chunk");
            assertEquals(200, r.status(), "the status line was already on its way");
            assertFalse(r.complete(), "the body is cut short: the only honest signal left");
            assertTrue(c.isClosedByPeer());
        }
        wm.verify(1, getRequestedFor(urlEqualTo("/chunk"))); // never retried once the response began
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            assertEquals(200, c.getAllowingCut("/ok").status(), "a new connection works");
        }
    }
}
