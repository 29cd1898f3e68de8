package io.fulcrum.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.node.config.EventsConfig;
import io.fulcrum.testing.Chromium;
import io.fulcrum.testing.EventStreamClient;
import io.fulcrum.testing.Teardown;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

/**
 * Drives the timeline page in headless Chromium against a real node: writes, edits and deletes posts;
 * follows posts written, edited and deleted elsewhere live, through its event stream, without a
 * single poll; with {@code ?feed=poll}, through its conditional poll (the node answers 304 while
 * nothing changed); keeps the user's text on an edit conflict and reapplies it; asks before
 * deleting; shows a banner with a retry while the API cannot be reached; shows the edit time. Skipped,
 * naming what is missing, without Chromium and its driver (see {@link Chromium}). With
 * {@code -Dfulcrum.screenshot=FILE} it saves a screenshot.
 */
class TimelinePageBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The page polls this often in these tests (?poll=), so that changes show up quickly. */
    private static final int POLL_MS = 300;

    @TempDir
    Path dir;
    private Chromium chromium;
    private WebDriver browser;
    private Node node;
    private TestHttp api;

    @BeforeEach
    void start() throws Exception {
        chromium = Chromium.start(dir.resolve("chromium-profile"));
        browser = chromium.driver();
        node = Node.start(TestNodes.sqlite("page-node", dir.resolve("posts.db")));
        api = new TestHttp(node.port());
    }

    @AfterEach
    void stop() throws Exception {
        Teardown.close(chromium, node);
    }

    @Test
    void writeEditAndDeleteChangeTheTimeline() throws Exception {
        api.postJson("/posts", "{\"author\":\"grace\",\"text\":\"Balancers should fail fast, not queue forever.\"}");
        api.postJson("/posts", "{\"author\":\"linus\",\"text\":\"Two nodes, one SQLite file, WAL mode.\"}");

        open("");
        pageWait().untilAsserted(() -> assertEquals(2, posts().size()));
        assertFalse(browser.findElement(By.id("load-older")).isDisplayed(), "no older page yet");
        pageWait().untilAsserted(() ->
                assertTrue(browser.findElement(By.id("served-by")).getText().contains("page-node")));

        browser.findElement(By.id("author")).sendKeys("frank");
        browser.findElement(By.id("text")).sendKeys("hello from Chromium");
        browser.findElement(By.id("submit")).click();
        pageWait().untilAsserted(() -> assertEquals("hello from Chromium", texts().get(0)));
        assertTrue(status().contains("Posted (node page-node)"), status());
        long id = Long.parseLong(posts().get(0).getAttribute("data-id"));
        assertEquals(200, api.get("/posts/" + id).statusCode());

        // A post written elsewhere (another tab, another node) shows up without a reload.
        api.postJson("/posts", "{\"author\":\"ada\",\"text\":\"written through the API\"}");
        pageWait().untilAsserted(() -> assertEquals("written through the API", texts().get(0)));

        assertTrue(postWithId(id).findElements(By.cssSelector(".edited")).isEmpty(), "not edited yet");
        postWithId(id).findElement(By.cssSelector("button.edit")).click();
        WebElement area = postWithId(id).findElement(By.cssSelector("textarea.edit-text"));
        area.clear();
        area.sendKeys("hello again, edited");
        postWithId(id).findElement(By.cssSelector("button.save")).click();
        pageWait().untilAsserted(() ->
                assertEquals("hello again, edited", postWithId(id).findElement(By.cssSelector(".post-text")).getText()));
        JsonNode edited = JSON.readTree(api.get("/posts/" + id).body());
        assertEquals(2, edited.get("version").asInt());
        // The edit time is shown, not the creation time again.
        WebElement editedTime = postWithId(id).findElement(By.cssSelector("time.edited"));
        assertEquals(edited.get("updatedAt").asText(), editedTime.getAttribute("datetime"));
        assertEquals(edited.get("createdAt").asText(),
                postWithId(id).findElement(By.cssSelector("time.created")).getAttribute("datetime"));

        browser.findElement(By.id("text")).sendKeys("this one will be deleted");
        browser.findElement(By.id("submit")).click();
        pageWait().untilAsserted(() -> assertEquals("this one will be deleted", texts().get(0)));
        long doomed = Long.parseLong(posts().get(0).getAttribute("data-id"));
        deleteFromPage(doomed);
        pageWait().untilAsserted(() -> assertFalse(texts().contains("this one will be deleted")));
        assertEquals(404, api.get("/posts/" + doomed).statusCode());
        assertEquals(List.of("written through the API", "hello again, edited",
                "Two nodes, one SQLite file, WAL mode.", "Balancers should fail fast, not queue forever."), texts());

        saveScreenshotIfAsked();

        // Past one page (20 posts) the page offers the older ones.
        for (int i = 0; i < 20; i++) {
            api.postJson("/posts", "{\"author\":\"bulk\",\"text\":\"bulk " + i + "\"}");
        }
        browser.navigate().refresh();
        pageWait().untilAsserted(() -> assertEquals(20, posts().size()));
        WebElement older = browser.findElement(By.id("load-older"));
        assertTrue(older.isDisplayed());
        older.click();
        pageWait().untilAsserted(() -> assertEquals(24, posts().size()));
        assertEquals("Balancers should fail fast, not queue forever.", texts().get(23));
        assertFalse(browser.findElement(By.id("load-older")).isDisplayed(), "the last page has no cursor");
    }

    @Test
    void postsEditsAndDeletesMadeElsewhereArriveLiveWithoutAPoll() throws Exception {
        long edited = create("bob", "first words");
        long deleted = create("cy", "about to vanish");
        // A page that polled would ask every 300 ms.
        open("?poll=" + POLL_MS);
        pageWait().untilAsserted(() -> assertEquals("live", browser.findElement(By.tagName("body")).getAttribute("data-feed")));
        assertEquals("Live", browser.findElement(By.id("feed")).getText());
        pageWait().untilAsserted(() -> assertEquals(2, posts().size()));

        create("ann", "new elsewhere");
        api.putJson("/posts/" + edited, "{\"text\":\"second words\"}");
        assertEquals(204, api.delete("/posts/" + deleted).statusCode());
        pageWait().untilAsserted(() -> assertEquals(List.of("new elsewhere", "second words"), texts()));
        assertEquals(1, postWithId(edited).findElements(By.cssSelector("time.edited")).size());
        assertEquals(1, timelineAnswers(200) + timelineAnswers(304), "the first page, and no poll");
    }

    @Test
    void editsAndDeletesMadeElsewhereShowUpThroughAConditionalPoll() throws Exception {
        long kept = create("ann", "kept as it is");
        long edited = create("bob", "first words");
        long deleted = create("cy", "about to vanish");
        open("?feed=poll&poll=" + POLL_MS);
        assertEquals("polling", browser.findElement(By.tagName("body")).getAttribute("data-feed"));
        pageWait().untilAsserted(() -> assertEquals(3, posts().size()));
        // While nothing changes the page's polls are answered 304, without a body.
        pageWait().untilAsserted(() -> assertTrue(timelineAnswers(304) >= 3,
                "304s so far: " + timelineAnswers(304)));

        api.putJson("/posts/" + edited, "{\"text\":\"second words\"}");
        pageWait().untilAsserted(() ->
                assertEquals("second words", postWithId(edited).findElement(By.cssSelector(".post-text")).getText()));
        assertEquals(1, postWithId(edited).findElements(By.cssSelector("time.edited")).size());

        assertEquals(204, api.delete("/posts/" + deleted).statusCode());
        pageWait().untilAsserted(() ->
                assertTrue(browser.findElements(By.cssSelector("#timeline li.post[data-id='" + deleted + "']")).isEmpty()));
        assertEquals(List.of("second words", "kept as it is"), texts());
        assertEquals(String.valueOf(kept), posts().get(1).getAttribute("data-id"));
    }

    @Test
    void aPageWhoseStreamIsRefusedAgainAndAgainFallsBackToPolling() throws Exception {
        node.close();
        node = Node.start(TestNodes.sqlite("page-node", dir.resolve("posts.db"))
                .withEvents(new EventsConfig(Duration.ofMillis(100), Duration.ofSeconds(15), 1)));
        api = new TestHttp(node.port());
        create("ann", "before");
        // The node's only stream is taken: the page's streams are refused (503).
        try (EventStreamClient taken = EventStreamClient.open(node.port(), Map.of())) {
            assertEquals(200, taken.response().statusCode());
            open("?poll=" + POLL_MS);
            pageWait().untilAsserted(() -> assertEquals(1, posts().size()));
            pageWait().untilAsserted(() -> assertEquals("polling",
                    browser.findElement(By.tagName("body")).getAttribute("data-feed")));
            assertTrue(browser.findElement(By.id("feed")).getText().startsWith("Checking for changes every"));
            create("bob", "found by a poll");
            pageWait().untilAsserted(() -> assertEquals(List.of("found by a poll", "before"), texts()));
            assertTrue(timelineAnswers(200) >= 2, "polled");
        }
    }

    @Test
    void anEditConflictKeepsTheUsersTextAndOffersToReapplyIt() throws Exception {
        setAuthor("frank");
        long id = create("frank", "the original");
        open("?poll=" + POLL_MS);
        pageWait().untilAsserted(() -> assertEquals(1, posts().size()));

        postWithId(id).findElement(By.cssSelector("button.edit")).click();
        WebElement area = postWithId(id).findElement(By.cssSelector("textarea.edit-text"));
        area.clear();
        area.sendKeys("my careful rewrite");
        // Meanwhile someone else saves another version.
        assertEquals(200, api.putJson("/posts/" + id, "{\"text\":\"their quick fix\"}").statusCode());
        postWithId(id).findElement(By.cssSelector("button.save")).click();

        pageWait().untilAsserted(() ->
                assertEquals("their quick fix", postWithId(id).findElement(By.cssSelector(".conflict .theirs")).getText()));
        assertEquals("my careful rewrite",
                postWithId(id).findElement(By.cssSelector("textarea.edit-text")).getAttribute("value"),
                "the user's text is kept");
        assertEquals("their quick fix", text(id), "nothing was overwritten");

        postWithId(id).findElement(By.cssSelector("button.reapply")).click();
        pageWait().untilAsserted(() ->
                assertEquals("my careful rewrite", postWithId(id).findElement(By.cssSelector(".post-text")).getText()));
        JsonNode now = JSON.readTree(api.get("/posts/" + id).body());
        assertEquals("my careful rewrite", now.get("text").asText());
        assertEquals(3, now.get("version").asInt());
    }

    @Test
    void deleteAsksFirstAndKeepLeavesThePost() throws Exception {
        setAuthor("frank");
        long id = create("frank", "think twice");
        open("");
        pageWait().untilAsserted(() -> assertEquals(1, posts().size()));

        postWithId(id).findElement(By.cssSelector("button.delete")).click();
        WebElement confirm = postWithId(id).findElement(By.cssSelector(".confirm"));
        assertTrue(confirm.getText().contains("Delete this post?"), confirm.getText());
        confirm.findElement(By.cssSelector("button.keep")).click();
        pageWait().untilAsserted(() ->
                assertFalse(postWithId(id).findElements(By.cssSelector("button.edit")).isEmpty()));
        assertEquals(200, api.get("/posts/" + id).statusCode(), "Keep deletes nothing");

        deleteFromPage(id);
        pageWait().untilAsserted(() -> assertTrue(posts().isEmpty()));
        assertEquals(404, api.get("/posts/" + id).statusCode());
    }

    @Test
    void aBannerWithRetryShowsWhileTheApiIsUnreachableAndTypedTextSurvives() throws Exception {
        create("ann", "before the outage");
        open("?poll=60000"); // only Retry asks again, so the test decides when
        pageWait().untilAsserted(() -> assertEquals(1, posts().size()));
        WebElement banner = browser.findElement(By.id("offline"));
        assertFalse(banner.isDisplayed());

        int port = node.port();
        node.close();
        node = null;
        browser.findElement(By.id("author")).sendKeys("frank");
        browser.findElement(By.id("text")).sendKeys("written during the outage");
        browser.findElement(By.id("submit")).click();
        pageWait().untilAsserted(() -> assertTrue(banner.isDisplayed()));
        assertTrue(banner.getText().contains("cannot be reached"), banner.getText());
        assertFalse(banner.getText().contains("Failed to fetch"), "a sentence for people, not the browser's error");
        assertTrue(browser.findElement(By.id("retry")).isDisplayed());
        assertTrue(status().contains("Your text is kept"), status());
        assertEquals("written during the outage", browser.findElement(By.id("text")).getAttribute("value"));

        node = Node.start(TestNodes.sqlite("page-node", dir.resolve("posts.db")).withPort(port));
        browser.findElement(By.id("retry")).click();
        pageWait().untilAsserted(() -> assertFalse(banner.isDisplayed()));
        browser.findElement(By.id("submit")).click();
        pageWait().untilAsserted(() -> assertEquals("written during the outage", texts().get(0)));
        assertEquals(2, JSON.readTree(api.get("/timeline").body()).get("posts").size());
    }

    private void open(String query) {
        browser.get("http://127.0.0.1:" + node.port() + "/" + query);
    }

    /** Sets the page's name before it loads (it is kept in localStorage), so that own posts get buttons. */
    private void setAuthor(String author) {
        open("");
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "localStorage.setItem('fulcrum.author', arguments[0]);", author);
    }

    private long create(String author, String text) throws IOException {
        var r = api.postJson("/posts", "{\"author\":\"" + author + "\",\"text\":\"" + text + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("id").asLong();
    }

    private void deleteFromPage(long id) {
        postWithId(id).findElement(By.cssSelector("button.delete")).click();
        postWithId(id).findElement(By.cssSelector("button.confirm-delete")).click();
    }

    /** How many GET /timeline the node answered with {@code status}, from its metrics. */
    private int timelineAnswers(int status) {
        String metrics = new TestHttp(node.adminPort()).send(new TestHttp(node.adminPort()).request("/metrics")
                .GET().build()).body();
        Matcher m = Pattern.compile("fulcrum_node_requests_seconds_count\\{method=\"GET\",route=\"/timeline\","
                + "status=\"" + status + "\"} (\\d+)").matcher(metrics);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    private String text(long id) throws IOException {
        return JSON.readTree(api.send(api.request("/posts/" + id).GET().build()).body()).get("text").asText();
    }

    private String status() {
        return browser.findElement(By.id("status")).getText();
    }

    private List<WebElement> posts() {
        return browser.findElements(By.cssSelector("#timeline li.post"));
    }

    private List<String> texts() {
        return posts().stream().map(p -> p.findElement(By.cssSelector(".post-text")).getText())
                .collect(Collectors.toList());
    }

    private WebElement postWithId(long id) {
        return browser.findElement(By.cssSelector("#timeline li.post[data-id='" + id + "']"));
    }

    private void saveScreenshotIfAsked() throws Exception {
        String target = System.getProperty("fulcrum.screenshot");
        if (target == null || target.isBlank()) {
            return;
        }
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path out = Path.of(target).toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.copy(shot.toPath(), out, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Waits for the page to reach a state. The page redraws a post when it changes, so an element
     * found a moment ago may be gone: that is a reason to look again, not a failure.
     */
    private static ConditionFactory pageWait() {
        return await().atMost(Chromium.WAIT).ignoreException(StaleElementReferenceException.class);
    }
}
