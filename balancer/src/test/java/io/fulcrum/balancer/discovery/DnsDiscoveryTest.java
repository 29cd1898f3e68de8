package io.fulcrum.balancer.discovery;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.TestDnsServer.Srv;
import io.fulcrum.testing.TestDnsServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backends from a DNS server of the test's own on loopback: the records' TTL runs out, the name is
 * asked again, and the pool follows the answer while a bounded load runs without a failed request;
 * a failing server leaves the last known pool in place.
 */
class DnsDiscoveryTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static Set<String> ids(Balancer balancer) {
        return balancer.registry().current().backends().stream().map(Backend::id).collect(Collectors.toSet());
    }

    private HttpLoad load(Balancer balancer) {
        return HttpLoad.to(balancer.port()).connections(4).requests(200_000).duration(Duration.ofSeconds(60)).start();
    }

    @Test
    void aRecordsAddAndRemoveBackendsAsTheirTtlRunsOut() throws Exception {
        ScriptedBackend b1 = fx.backend("b1");
        int port = b1.port();
        ScriptedBackend b2 = fx.closeAfter(ScriptedBackend.start("b2", "127.0.0.2", port));
        ScriptedBackend b3 = fx.closeAfter(ScriptedBackend.start("b3", "127.0.0.3", port));
        TestDnsServer dns = fx.closeAfter(TestDnsServer.start()).ttl(1).a("api.test", "127.0.0.1", "127.0.0.2");
        Balancer balancer = fx.balancer(BalancerYaml.create().set("routing.slow-start", "0s").merge(
                "discovery: { dns: { name: api.test, type: A, port: " + port + ", server: \"" + dns.address()
                + "\", min-ttl: 200ms, max-ttl: 2s } }\n"));
        String id1 = "127.0.0.1-" + port;
        String id2 = "127.0.0.2-" + port;
        String id3 = "127.0.0.3-" + port;
        await("first answer").atMost(WAIT).until(() -> ids(balancer).equals(Set.of(id1, id2)));

        HttpLoad load = load(balancer);
        await().atMost(WAIT).until(() -> b1.requests() > 20 && b2.requests() > 20);

        dns.a("api.test", "127.0.0.2", "127.0.0.3");
        await("the next answer, after the TTL").atMost(WAIT).until(() -> ids(balancer).equals(Set.of(id2, id3)));
        await().atMost(WAIT).until(() -> b3.requests() > 20);
        int b1Before = b1.requests();
        int b3Before = b3.requests();
        await().atMost(WAIT).until(() -> b3.requests() > b3Before + 50);
        assertEquals(b1Before, b1.requests(), "a removed backend gets no new request");

        // The server fails: the last known set stays, and the failures are counted.
        long failures = balancer.discovery().failures();
        dns.failing(true);
        await().atMost(WAIT).until(() -> balancer.discovery().failures() >= failures + 2);
        assertEquals(Set.of(id2, id3), ids(balancer));
        int b2Before = b2.requests();
        await().atMost(WAIT).until(() -> b2.requests() > b2Before + 50);

        dns.failing(false).a("api.test", "127.0.0.1");
        await("back, and only b1").atMost(WAIT).until(() -> ids(balancer).equals(Set.of(id1)));
        int b1Again = b1.requests();
        await().atMost(WAIT).until(() -> b1.requests() > b1Again + 50);

        HttpLoad.Result r = load.stopAndAwait(WAIT);
        assertEquals(List.of(), r.failures(), r.summary());
        assertTrue(r.total() > 300, r.summary());
    }

    @Test
    void aaaaRecordsGiveIpv6Backends() throws Exception {
        ScriptedBackend v6 = fx.closeAfter(ScriptedBackend.start("v6", "::1", 0));
        ScriptedBackend v4 = fx.closeAfter(ScriptedBackend.start("v4", "127.0.0.1", v6.port()));
        TestDnsServer dns = fx.closeAfter(TestDnsServer.start()).ttl(1).a("api.test", "127.0.0.1", "::1");
        Balancer balancer = fx.balancer(BalancerYaml.create().merge(
                "discovery: { dns: { name: api.test, type: AAAA, port: " + v6.port() + ", server: \"" + dns.address()
                + "\", min-ttl: 200ms } }\n"));
        await().atMost(WAIT).until(() -> ids(balancer).equals(Set.of("0_0_0_0_0_0_0_1-" + v6.port())));
        HttpLoad.Result r = HttpLoad.to(balancer.port()).connections(1).requests(10).run();
        assertEquals(List.of(), r.failures(), r.summary());
        assertEquals(10, v6.requests());
        assertEquals(0, v4.requests(), "AAAA only");
    }

    @Test
    void srvRecordsGivePortsAndWeights() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        TestDnsServer dns = fx.closeAfter(TestDnsServer.start()).ttl(1)
                .a("n1.test", "127.0.0.1").a("n2.test", "127.0.0.1").a("n3.test", "127.0.0.1")
                .srv("_http._tcp.api.test", new Srv(10, 1, b[0].port(), "n1.test"), new Srv(10, 3, b[1].port(), "n2.test"),
                        new Srv(20, 1, b[2].port(), "n3.test"));
        Balancer balancer = fx.balancer(BalancerYaml.create().set("routing.slow-start", "0s").merge(
                "discovery: { dns: { name: _http._tcp.api.test, type: SRV, server: \"" + dns.address()
                + "\", min-ttl: 200ms } }\n"));
        String n1 = "n1.test-" + b[0].port();
        String n2 = "n2.test-" + b[1].port();
        String n3 = "n3.test-" + b[2].port();
        await("the lowest priority only").atMost(WAIT).until(() -> ids(balancer).equals(Set.of(n1, n2)));
        Map<String, Integer> weights = balancer.registry().current().backends().stream()
                .collect(Collectors.toMap(Backend::id, Backend::weight));
        assertEquals(Map.of(n1, 1, n2, 3), weights);
        assertEquals(b[1].port(), balancer.registry().current().byId(n2).port());

        HttpLoad load = load(balancer);
        await().atMost(WAIT).until(() -> b[0].requests() > 20 && b[1].requests() > 20);
        dns.srv("_http._tcp.api.test", new Srv(10, 1, b[1].port(), "n2.test"), new Srv(10, 1, b[2].port(), "n3.test"));
        await().atMost(WAIT).until(() -> ids(balancer).equals(Set.of(n2, n3)));
        assertEquals(1, balancer.registry().current().byId(n2).weight(), "a new weight applies");
        await().atMost(WAIT).until(() -> b[2].requests() > 50);

        // Targets without addresses in the answer are asked for.
        dns.additional(false).srv("_http._tcp.api.test", new Srv(10, 1, b[0].port(), "n1.test"),
                new Srv(10, 1, b[2].port(), "n3.test"));
        await().atMost(WAIT).until(() -> ids(balancer).equals(Set.of(n1, n3)));
        int n1Before = b[0].requests();
        await().atMost(WAIT).until(() -> b[0].requests() > n1Before + 20);
        HttpLoad.Result r = load.stopAndAwait(WAIT);
        assertEquals(List.of(), r.failures(), r.summary());
    }
}
