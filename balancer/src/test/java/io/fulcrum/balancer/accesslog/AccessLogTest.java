package io.fulcrum.balancer.accesslog;

import static io.fulcrum.testing.TextAssertions.assertContainsAll;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.balancing.TestTraces;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.io.UncheckedIOException;
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
                TestTraces.retryThatAvoidedOne(), null);
    }

    /** Waits until {@code file} holds {@code count} lines, and returns them. */
    private static List<String> awaitLines(Path file, int count) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(file) && Files.readAllLines(file).size() == count);
        return Files.readAllLines(file);
    }

    /** The {@code path} of one JSON line. */
    private static String path(String line) {
        try {
            return JSON.readTree(line).get("path").asText();
        } catch (java.io.IOException e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }

    @Test
    void jsonLineHasEveryFieldAndEachTry() throws Exception {
        String line = AccessLog.format(record("/posts/1?q=\"x\"", "curl/8.5 \"quoted\"\n"), AccessLog.Format.JSON);
        assertTrue(line.endsWith("}\n"), line);
        line = line.substring(0, line.length() - 1);
        JsonNode n = JSON.readTree(line);
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
        assertEquals(TestTraces.retryThatAvoidedOne().compact(), n.get("decision").asText(),
                "the line carries the trace's compact form, written from the trace");
        assertEquals("region=us-east(default) pass=local to=us-east backend=us-2 avoided=1", n.get("decision").asText());
        assertFalse(n.has("error"), "only for the balancer's own answers");
        assertFalse(line.contains("\n"), "one line");
    }

    @Test
    void theDecisionShowsTheQueueInBothFormats() throws Exception {
        DecisionTrace trace = TestTraces.retryThatAvoidedOne();
        trace.queued(250_000_000, "timeout");
        RequestRecord r = new RequestRecord(1_764_500_040_000L, "r", null, "c", "GET", null, "/", "HTTP/1.1", 503,
                RequestRecord.COMPLETED, 0, 0, 250_000_000L, -1, null, null, List.of(), trace, "queue timeout");
        JsonNode n = JSON.readTree(AccessLog.format(r, AccessLog.Format.JSON));
        assertEquals(trace.compact(), n.get("decision").asText());
        assertTrue(n.get("decision").asText().endsWith(" queued=250ms queue=timeout"), n.get("decision").asText());
        assertEquals("queue timeout", n.get("error").asText());
        String logfmt = AccessLog.format(r, AccessLog.Format.LOGFMT);
        assertTrue(logfmt.contains("decision=\"" + trace.compact() + "\""), logfmt);
    }

    @Test
    void jsonStringsSurviveAnyTextIntact() throws Exception {
        List<String> samples = List.of("", "plain", "tab\tcr\rnul\u0000del\u007f", "back\\slash \"q\"",
                "caf\u00e9 \u20ac \u4e2d\u6587", "emoji \ud83d\ude80 end", "\u2028line\u2029sep", "</script>");
        for (String s : samples) {
            String line = AccessLog.format(record(s, s), AccessLog.Format.JSON);
            JsonNode n = JSON.readTree(line);
            assertEquals(s, n.get("path").asText(), "path " + s);
            assertEquals(s, n.get("user_agent").asText(), "user agent " + s);
        }
        JsonNode lone = JSON.readTree(AccessLog.format(record("a\ud800b", null), AccessLog.Format.JSON));
        assertEquals("a\ufffdb", lone.get("path").asText(), "a lone surrogate becomes U+FFFD");
        assertTrue(lone.get("user_agent").isNull());
    }

    @Test
    void timesAlwaysHaveSecondsAndMillisecondsAndDurationsRoundToTheMicrosecond() throws Exception {
        RequestRecord r = new RequestRecord(1_764_500_040_000L, "r", null, "c", "GET", null, "/", "HTTP/1.1", 200,
                RequestRecord.COMPLETED, 0, 0, 1_999_999_500L, -1, null, null, List.of(), null, "no backend");
        String line = AccessLog.format(r, AccessLog.Format.JSON);
        JsonNode n = JSON.readTree(line);
        assertEquals("2025-11-30T10:54:00.000Z", n.get("time").asText());
        assertEquals(java.time.Instant.ofEpochMilli(1_764_500_040_000L), java.time.Instant.parse(n.get("time").asText()));
        assertTrue(line.contains("\"duration_ms\":2000.000,"), line);
        assertTrue(n.get("ttfb_ms").isNull());
        assertTrue(n.get("host").isNull());
        assertEquals(0, n.get("tries").size());
        assertEquals("no backend", n.get("error").asText());
        String logfmt = AccessLog.format(r, AccessLog.Format.LOGFMT);
        assertContainsAll(logfmt, " ttfb_ms=- ", " attempts=0 tries=\"\" ", " error=\"no backend\"\n");
    }

    @Test
    void logfmtKeepsTheKeysAndQuotesValuesWithSpaces() {
        String s = AccessLog.format(record("/a b", null), AccessLog.Format.LOGFMT);
        assertTrue(s.startsWith("time=2025-11-30T10:53:20.123Z request_id=req-1 "), s);
        assertContainsAll(s, " client=10.0.0.7 method=GET ", " path=\"/a b\" ", " status=200 ", " duration_ms=1.204 ",
                " user_agent=- route=- pool=- backend=us-2 attempts=2 ",
                " tries=\"us-1:reset:0.120:-:0 us-2:success:0.000:0.804:200\" ");
        assertTrue(s.endsWith(" decision=\"region=us-east(default) pass=local to=us-east backend=us-2 avoided=1\"\n"), s);
    }

    @Test
    void logfmtLeavesOneTryUnquotedAndEscapesQuotesAndControls() {
        RequestRecord r = new RequestRecord(1_764_500_000_123L, "r", null, "c", "GET", null, "/x", "HTTP/1.1", 200,
                RequestRecord.COMPLETED, 0, 0, 1_000, 1_000, "say \"hi\"\n", "us-1",
                List.of(new RequestRecord.Try("us-1", "success", 0, 500, 200)), null, null);
        String s = AccessLog.format(r, AccessLog.Format.LOGFMT);
        assertContainsAll(s, " user_agent=\"say \\\"hi\\\"\\u000a\" ", " tries=us-1:success:0.000:0.001:200 decision=-\n");
    }

    @Test
    void aGrpcCallsStatusFollowsItsHttpStatusInBothFormatsAndOtherRequestsHaveNone() throws Exception {
        RequestRecord r = new RequestRecord(1_764_500_000_123L, "r", null, "c", "POST", null,
                "/grpc.testing.SimpleService/UnaryRpc", "HTTP/2.0", 200, RequestRecord.COMPLETED, 5, 7, 1_000, 1_000,
                null, "us-1", List.of(new RequestRecord.Try("us-1", "success", 0, 500, 200)), null, null, null,
                null, 14);
        JsonNode n = JSON.readTree(AccessLog.format(r, AccessLog.Format.JSON));
        assertEquals(14, n.get("grpc_status").asInt(), n.toString());
        assertContainsAll(AccessLog.format(r, AccessLog.Format.LOGFMT), " status=200 grpc_status=14 outcome=completed ");
        RequestRecord plain = record("/", null);
        assertFalse(JSON.readTree(AccessLog.format(plain, AccessLog.Format.JSON)).has("grpc_status"));
        assertFalse(AccessLog.format(plain, AccessLog.Format.LOGFMT).contains("grpc_status"));
    }

    @Test
    void aFileTargetGetsOneJsonObjectPerLine() throws Exception {
        Path file = dir.resolve("access.log");
        try (AccessLog log = AccessLog.create(file.toString(), AccessLog.Format.JSON)) {
            assertTrue(log.enabled());
            log.log(record("/1", "a"));
            log.log(record("/2", "b"));
            List<String> lines = awaitLines(file, 2);
            assertEquals("/1", path(lines.get(0)));
            assertEquals("/2", path(lines.get(1)));
            // A burst larger than a batch and than the write buffer: every line whole and in order.
            int burst = 5000;
            for (int i = 0; i < burst; i++) {
                log.log(record("/burst/" + i, "b"));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.readAllLines(file).size() == burst + 2);
            lines = Files.readAllLines(file);
            for (int i = 0; i < burst; i++) {
                assertEquals("/burst/" + i, path(lines.get(i + 2)));
            }
            assertEquals(0, log.dropped());
        }
    }

    @Test
    void linesOfSeveralThreadsArriveWholeAndEachThreadsInOrder() throws Exception {
        Path file = dir.resolve("threads.log");
        int threads = 4;
        int each = 1500; // 6,000 lines in all, far below a thread's 4 MiB: none may be dropped
        try (AccessLog log = AccessLog.create(file.toString(), AccessLog.Format.JSON)) {
            List<Thread> started = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String name = "t" + t;
                Thread thread = new Thread(() -> {
                    for (int i = 0; i < each; i++) {
                        log.log(record("/" + name + "/" + i, name));
                    }
                });
                thread.start();
                started.add(thread);
            }
            for (Thread thread : started) {
                thread.join();
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.readAllLines(file).size() == threads * each);
            java.util.Map<String, Integer> next = new java.util.HashMap<>();
            for (String line : Files.readAllLines(file)) {
                JsonNode n = JSON.readTree(line);
                String[] path = n.get("path").asText().split("/");
                int expected = next.getOrDefault(path[1], 0);
                assertEquals(expected, Integer.parseInt(path[2]), "in order within " + path[1]);
                next.put(path[1], expected + 1);
            }
            assertEquals(threads, next.size());
            assertEquals(0, log.dropped());
        }
    }

    @Test
    void aLineThatCannotBeFormattedIsDroppedWholeAndCountedAndTheNextOneIsIntact() throws Exception {
        Path file = dir.resolve("broken.log");
        try (AccessLog log = AccessLog.create(file.toString(), AccessLog.Format.JSON)) {
            RequestRecord ok = record("/before", "a");
            // A try missing from the list: formatting fails half way through the line.
            RequestRecord broken = new RequestRecord(ok.startEpochMillis(), "r", null, "c", "GET", null, "/broken",
                    "HTTP/1.1", 200, RequestRecord.COMPLETED, 0, 0, 1_000, 1_000, null, "us-1",
                    java.util.Arrays.asList((RequestRecord.Try) null), null, null);
            log.log(ok);
            log.log(broken);
            log.log(record("/after", "a"));
            List<String> lines = awaitLines(file, 2);
            assertEquals("/before", path(lines.get(0)));
            assertEquals("/after", path(lines.get(1)));
            assertEquals(1, log.dropped());
        }
    }

    @Test
    void aRotatedFileIsFollowedByANewOneAtThePath() throws Exception {
        Path file = dir.resolve("rotated.log");
        Path moved = dir.resolve("rotated.log.1");
        try (AccessLog log = AccessLog.create(file.toString(), AccessLog.Format.JSON)) {
            log.log(record("/before", "a"));
            awaitLines(file, 1);
            // logrotate's create mode: the file is renamed, and the balancer gets no signal.
            Files.move(file, moved);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(file));
            log.log(record("/after", "b"));
            assertEquals("/after", path(awaitLines(file, 1).get(0)));
            assertEquals(List.of("/before"), Files.readAllLines(moved).stream().map(AccessLogTest::path).toList());

            // Removed outright: a new file again.
            Files.delete(file);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(file));
            log.log(record("/again", "c"));
            assertEquals("/again", path(awaitLines(file, 1).get(0)));
            assertEquals(0, log.dropped());
        }
    }

    @Test
    void aFileTruncatedInPlaceIsAppendedTo() throws Exception {
        Path file = dir.resolve("truncated.log");
        try (AccessLog log = AccessLog.create(file.toString(), AccessLog.Format.JSON)) {
            log.log(record("/before", "a"));
            awaitLines(file, 1);
            // logrotate's copytruncate mode.
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.truncate(0);
            }
            log.log(record("/after", "b"));
            String line = awaitLines(file, 1).get(0);
            assertTrue(line.startsWith("{"), "no hole of zero bytes before the line: " + line);
            assertEquals("/after", path(line));
        }
    }

    @Test
    void linesThatCannotBeWrittenAreCountedAndTheLogComesBackWhenTheOutputDoes() throws Exception {
        // An output that fails while told to, as a full disk does.
        var out = new java.io.OutputStream() {
            final java.io.ByteArrayOutputStream written = new java.io.ByteArrayOutputStream();
            volatile boolean failing = true;

            @Override
            public void write(int b) throws java.io.IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                if (failing) {
                    throw new java.io.IOException("No space left on device");
                }
                synchronized (written) {
                    written.write(b, off, len);
                }
            }

            String text() {
                synchronized (written) {
                    return written.toString(java.nio.charset.StandardCharsets.UTF_8);
                }
            }
        };
        try (AccessLog log = AccessLog.create(out, AccessLog.Format.JSON)) {
            for (int i = 0; i < 3; i++) {
                log.log(record("/lost/" + i, "a"));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> log.dropped() == 3);
            out.failing = false;
            log.log(record("/kept", "b"));
            await().atMost(Duration.ofSeconds(10)).until(() -> out.text().contains("\"path\":\"/kept\""));
            String text = out.text();
            assertEquals(1, text.lines().count(), text);
            assertFalse(text.contains("/lost/"), text);
            assertEquals(3, log.dropped());
        }
    }

    @Test
    void aFullDiskCostsLinesNotTheWriter() throws Exception {
        Path full = Path.of("/dev/full");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "/dev/full is not there to write to");
        try (AccessLog log = AccessLog.create(full.toString(), AccessLog.Format.JSON)) {
            log.log(record("/1", "a"));
            await().atMost(Duration.ofSeconds(10)).until(() -> log.dropped() == 1);
            log.log(record("/2", "a"));
            log.log(record("/3", "a"));
            await().atMost(Duration.ofSeconds(10)).until(() -> log.dropped() == 3);
        }
    }

    @Test
    void closeWritesWhatIsBuffered() throws Exception {
        Path file = dir.resolve("close.log");
        AccessLog log = AccessLog.create(file.toString(), AccessLog.Format.LOGFMT);
        log.log(record("/last", "a"));
        log.close();
        List<String> lines = Files.readAllLines(file);
        assertEquals(1, lines.size());
        assertTrue(lines.get(0).contains(" path=/last "), lines.get(0));
    }

    @Test
    void aFileThatCannotBeOpenedNamesTheKey() {
        Path missing = dir.resolve("no-such-dir").resolve("access.log");
        var e = assertThrows(UncheckedIOException.class, () -> AccessLog.create(missing.toString(), AccessLog.Format.JSON));
        assertTrue(e.getMessage().startsWith("access-log: cannot open " + missing), e.getMessage());
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
