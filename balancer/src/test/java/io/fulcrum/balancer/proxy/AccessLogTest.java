package io.fulcrum.balancer.proxy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static RequestRecord record(String target, String userAgent) {
        return new RequestRecord(1_764_500_000_123L, "req-1", "4bf92f3577b34da6a3ce929d0e0e4736", "10.0.0.7", "GET",
                "example.com", target, "HTTP/1.1", 200, RequestRecord.COMPLETED, 0, 1234, 1_204_000, 900_000,
                userAgent, "us-2",
                List.of(new RequestRecord.Try("us-1", "reset", 120_000, -1, 0),
                        new RequestRecord.Try("us-2", "success", 0, 804_000, 200)),
                "region=us-east(default) pass=local to=us-east backend=us-2 avoided=1", null);
    }

    @Test
    void jsonLineHasEveryFieldAndEachTry() throws Exception {
        StringBuilder line = new StringBuilder();
        AccessLog.json(record("/posts/1?q=\"x\"", "curl/8.5 \"quoted\"\n"), line);
        JsonNode n = JSON.readTree(line.toString());
        assertEquals("2025-11-30T10:53:20.123Z", n.get("time").asText());
        assertEquals("req-1", n.get("request_id").asText());
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", n.get("trace_id").asText());
        assertEquals("/posts/1?q=\"x\"", n.get("path").asText(), "escaped and read back intact");
        assertEquals("curl/8.5 \"quoted\"\n", n.get("user_agent").asText());
        assertEquals(1.204, n.get("duration_ms").asDouble());
        assertEquals(0.9, n.get("ttfb_ms").asDouble());
        assertEquals(1234, n.get("bytes_out").asLong());
        assertEquals(2, n.get("tries").size());
        assertEquals("reset", n.get("tries").get(0).get("outcome").asText());
        assertTrue(n.get("tries").get(0).get("first_byte_ms").isNull());
        assertTrue(n.get("tries").get(0).get("status").isNull());
        assertEquals(0.804, n.get("tries").get(1).get("first_byte_ms").asDouble());
        assertEquals(200, n.get("tries").get(1).get("status").asInt());
        assertTrue(n.get("decision").asText().contains("avoided=1"));
        assertFalse(n.has("error"), "only for the balancer's own answers");
        assertFalse(line.toString().contains("\n"), "one line");
    }

    @Test
    void logfmtKeepsTheKeysAndQuotesValuesWithSpaces() {
        StringBuilder line = new StringBuilder();
        AccessLog.logfmt(record("/a b", null), line);
        String s = line.toString();
        assertTrue(s.startsWith("time=2025-11-30T10:53:20.123Z request_id=req-1 "), s);
        assertTrue(s.contains(" client=10.0.0.7 method=GET "), s);
        assertTrue(s.contains(" path=\"/a b\" "), s);
        assertTrue(s.contains(" status=200 "), s);
        assertTrue(s.contains(" duration_ms=1.204 "), s);
        assertTrue(s.contains(" user_agent=- backend=us-2 attempts=2 "), s);
        assertTrue(s.contains(" tries=\"us-1:reset:0.120:-:0 us-2:success:0.000:0.804:200\" "), s);
    }

    @Test
    void aFileTargetGetsOneJsonObjectPerLine() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLog log = AccessLog.create(file.toString(), AccessLog.Format.JSON);
        try {
            assertTrue(log.enabled());
            log.log(record("/1", "a"));
            log.log(record("/2", "b"));
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(file) && Files.readAllLines(file).size() == 2);
            List<String> lines = Files.readAllLines(file);
            assertEquals("/1", JSON.readTree(lines.get(0)).get("path").asText());
            assertEquals("/2", JSON.readTree(lines.get(1)).get("path").asText());
            assertEquals(0, log.dropped());
        } finally {
            log.close();
        }
    }

    @Test
    void offLogsNothing() {
        AccessLog log = AccessLog.create("off", AccessLog.Format.LOGFMT);
        assertSame(AccessLog.OFF, log);
        assertFalse(log.enabled());
        log.log(record("/", null));
        log.close();
    }
}
