package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.ONE_BACKEND;
import static io.fulcrum.balancer.config.ConfigTexts.parse;
import static io.fulcrum.balancer.config.ConfigTexts.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys of the access-log format, the admin token and the decision header. */
class ObservabilityConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreJsonNoTokenAndNoDecisionHeader() throws ConfigException {
        BalancerConfig c = parse(ONE_BACKEND);
        assertEquals("json", c.accessLogFormat());
        assertFalse(c.adminToken().present());
        assertNull(c.decisionHeader());
    }

    @Test
    void readsTheAccessLogFormat() throws ConfigException {
        assertEquals("logfmt", parse(ONE_BACKEND + "access-log-format: logfmt\n").accessLogFormat());
        assertEquals(List.of("access-log-format: unknown format \"xml\" (expected: json, logfmt) (line 2)"),
                problems(ONE_BACKEND + "access-log-format: xml\n"));
        assertEquals(List.of("access-log-format: unknown format \"jsn\", did you mean \"json\"? (expected: json, logfmt)"
                + " (line 2)"), problems(ONE_BACKEND + "access-log-format: jsn\n"));
    }

    @Test
    void readsTheAdminTokenFromTheConfigOrAFileAndNeverPrintsIt() throws Exception {
        BalancerConfig inline = parse(ONE_BACKEND + "admin: { port: 0, token: abcdefghijklmnop1 }\n");
        assertEquals("abcdefghijklmnop1", inline.adminToken().token());
        assertFalse(inline.toString().contains("abcdefghijklmnop1"), inline.toString());

        Path file = dir.resolve("token");
        Files.writeString(file, "  from-a-file-0123456789\n");
        BalancerConfig fromFile = parse(ONE_BACKEND + "admin: { token-file: \"" + file + "\" }\n");
        assertEquals("from-a-file-0123456789", fromFile.adminToken().token());
        assertEquals(0, fromFile.admin().port() == 8081 ? 0 : 1, "the port keeps its default");

        assertEquals(List.of("admin.token: too short (expected: at least 16 characters) (line 2)"),
                problems(ONE_BACKEND + "admin: { token: short }\n"));
        List<String> missing = problems(ONE_BACKEND + "admin: { token-file: \"" + dir.resolve("nope") + "\" }\n");
        assertEquals(1, missing.size());
        assertTrue(missing.get(0).startsWith("admin.token-file: cannot read"), missing.get(0));
        assertTrue(problems(ONE_BACKEND + "admin: { tokn: abcdefghijklmnopq }\n").get(0)
                .startsWith("admin.tokn: unknown key"));
    }

    @Test
    void readsTheDecisionHeaderWithLoopbackAsTheDefaultTrust() throws Exception {
        DecisionHeaderConfig d = parse(ONE_BACKEND + "decision-header: { request: X-Fulcrum-Debug }\n").decisionHeader();
        assertEquals("X-Fulcrum-Debug", d.request());
        assertEquals(DecisionHeaderConfig.LOOPBACK, d.trusted());

        DecisionHeaderConfig lan = parse(ONE_BACKEND
                + "decision-header: { request: X-Debug, trusted: [10.0.0.0/8, \"fd00::/8\"] }\n").decisionHeader();
        assertTrue(lan.trusted().get(0).contains(InetAddress.getByName("10.1.2.3")));
        assertFalse(lan.trusted().get(0).contains(InetAddress.getByName("11.1.2.3")));
        assertTrue(lan.trusted().get(1).contains(InetAddress.getByName("fd12::1")));
        assertFalse(lan.trusted().get(1).contains(InetAddress.getByName("10.1.2.3")));

        assertEquals(List.of("decision-header.trusted[0]: prefix length of 10.0.0.0/33 (expected: 0-32) (line 2)"),
                problems(ONE_BACKEND + "decision-header: { request: X-Debug, trusted: [10.0.0.0/33] }\n"));
        assertEquals(List.of("decision-header.trusted[0]: not an IP address or network: example.com"
                + " (expected: 10.0.0.0/8, 127.0.0.1, ::1/128) (line 2)"),
                problems(ONE_BACKEND + "decision-header: { request: X-Debug, trusted: [example.com] }\n"));
    }

    @Test
    void theHashFollowsTheValuesNotTheLayout() throws ConfigException {
        String a = parse(ONE_BACKEND + "region: us-east\n").hash();
        String sameValues = parse("# a comment\nregion: us-east\n" + ONE_BACKEND).hash();
        String other = parse(ONE_BACKEND + "region: eu-west\n").hash();
        assertEquals(16, a.length());
        assertEquals(a, sameValues);
        assertNotEquals(a, other);
    }
}
