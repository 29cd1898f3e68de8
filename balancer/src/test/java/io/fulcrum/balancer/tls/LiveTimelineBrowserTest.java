package io.fulcrum.balancer.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.node.Node;
import io.fulcrum.node.config.EventsConfig;
import io.fulcrum.node.config.NodeConfig;
import io.fulcrum.node.config.NodeLimitsConfig;
import io.fulcrum.node.config.NodeListenConfig;
import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Chromium;
import io.fulcrum.testing.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * The proof, in headless Chromium: the timeline page reached over HTTPS with HTTP/2
 * through the balancer (TLS with the test certificate), two post servers behind it sharing one
 * SQLite file. A post written on one page appears on a second page, live, through the second
 * page's event stream, which another node than the post's holds: the reader's node is drained on
 * the balancer once its stream is open, so the writer's requests all go to the other node while
 * the stream stays where it is. Neither page polls: each node's {@code GET /timeline} count is the
 * first page of each page, nothing more. The pages log no script errors. Skipped, naming what is
 * missing, without Chromium (see {@link Chromium}).
 */
class LiveTimelineBrowserTest {
    private static final Pattern TIMELINE_GETS = Pattern.compile(
            "fulcrum_node_requests_seconds_count\\{method=\"GET\",route=\"/timeline\",status=\"\\d+\"} (\\d+)");

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Node node(String id) throws InterruptedException {
        NodeConfig config = new NodeConfig(id, "local", new NodeListenConfig("127.0.0.1", 0),
                StoreConfig.sqlite(fx.dir().resolve("posts.db")), NodeLimitsConfig.DEFAULTS,
                new NodeListenConfig("127.0.0.1", 0), new EventsConfig(Duration.ofMillis(100), Duration.ofSeconds(15), 100));
        return fx.closeAfter(Node.start(config));
    }

    @Test
    void aPostOnOnePageAppearsLiveOnAnotherOverHttp2ThroughTheBalancer() throws Exception {
        Chromium chromium = fx.closeAfter(Chromium.start(fx.dir().resolve("chromium-profile"),
                "--ignore-certificate-errors"));
        Node n1 = node("n1");
        Node n2 = node("n2");
        Balancer balancer = fx.balancer(BalancerYaml.create().set("routing.policy", "round-robin")
                .set("routing.slow-start", "0s").backend("n1", n1.port()).backend("n2", n2.port())
                .merge(TestCertificates.tlsSection(fx.dir())));
        String page = "https://localhost:" + balancer.tlsPort() + "/";
        WebDriver browser = chromium.driver();

        // The reader's page first: its stream lands on one node.
        browser.get(page);
        String reader = browser.getWindowHandle();
        pageWait().untilAsserted(() -> assertEquals("live", feed(browser)));
        assertEquals("h2", protocol(browser), "the page came over HTTP/2");
        await().atMost(Fixtures.WAIT).until(() -> streams(n1) + streams(n2) == 1);
        Node streamNode = streams(n1) == 1 ? n1 : n2;
        Node other = streamNode == n1 ? n2 : n1;
        String streamNodeId = streamNode.config().id();
        // From now on the balancer sends new requests to the other node; the open stream stays.
        HttpResponse<String> drained = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + balancer.adminPort() + "/backends/" + streamNodeId + "/drain"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, drained.statusCode(), drained.body());

        // The writer's page, in a second tab: all its requests go to the other node.
        browser.switchTo().newWindow(WindowType.TAB);
        browser.get(page);
        pageWait().untilAsserted(() -> assertEquals("live", feed(browser)));
        assertEquals("h2", protocol(browser));
        browser.findElement(By.id("author")).sendKeys("frank");
        browser.findElement(By.id("text")).sendKeys("live through the balancer");
        browser.findElement(By.id("submit")).click();
        pageWait().untilAsserted(() -> assertTrue(status(browser).startsWith("Posted (node "), status(browser)));
        assertEquals("Posted (node " + other.config().id() + ").", status(browser), "written through the other node");
        assertNotEquals(streamNodeId, other.config().id());

        browser.switchTo().window(reader);
        pageWait().untilAsserted(() -> assertEquals(List.of("live through the balancer"), texts(browser)));
        assertEquals("live", feed(browser));
        assertEquals(1, streams(streamNode), "the reader's stream is still on its node");
        assertEquals(2, timelineGets(n1) + timelineGets(n2), "one first page per page, and no poll");

        for (String handle : browser.getWindowHandles()) {
            browser.switchTo().window(handle);
            List<String> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                    .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                    .filter(e -> !e.getMessage().contains("favicon.ico"))
                    .map(LogEntry::getMessage).collect(Collectors.toList());
            assertEquals(List.of(), errors, "script errors");
        }
    }

    private static String feed(WebDriver browser) {
        return browser.findElement(By.tagName("body")).getAttribute("data-feed");
    }

    private static String protocol(WebDriver browser) {
        return String.valueOf(((JavascriptExecutor) browser).executeScript(
                "return performance.getEntriesByType('navigation')[0].nextHopProtocol;"));
    }

    private static String status(WebDriver browser) {
        return browser.findElement(By.id("status")).getText();
    }

    private static List<String> texts(WebDriver browser) {
        return browser.findElements(By.cssSelector("#timeline li.post .post-text")).stream()
                .map(e -> e.getText()).collect(Collectors.toList());
    }

    private static String metrics(Node node) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + node.adminPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int streams(Node node) throws Exception {
        Matcher m = Pattern.compile("(?m)^fulcrum_node_event_streams (\\S+)").matcher(metrics(node));
        return m.find() ? (int) Double.parseDouble(m.group(1)) : 0;
    }

    private static int timelineGets(Node node) throws Exception {
        Matcher m = TIMELINE_GETS.matcher(metrics(node));
        int total = 0;
        while (m.find()) {
            total += Integer.parseInt(m.group(1));
        }
        return total;
    }

    /** Waits for a page state; a redrawn element found a moment ago is a reason to look again. */
    private static ConditionFactory pageWait() {
        return await().atMost(Chromium.WAIT).ignoreException(StaleElementReferenceException.class);
    }
}
