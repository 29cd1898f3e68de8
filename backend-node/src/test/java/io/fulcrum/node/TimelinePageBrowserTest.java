package io.fulcrum.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.testing.TestHttp;
import io.fulcrum.testing.TestNodes;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Drives the timeline page in headless Chromium (Debian's chromium and chromium-driver packages):
 * writes a post, sees a post written elsewhere appear, edits and deletes a post, and checks the
 * server agrees. Skipped with a message when Chromium is not installed, unless
 * {@code FULCRUM_REQUIRE_BROWSER=1}. With {@code -Dfulcrum.screenshot=FILE} it saves a screenshot.
 */
class TimelinePageBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private Node node;
    private WebDriver browser;
    private ChromeDriverService driverService;

    @BeforeEach
    void start() throws Exception {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed) {
            String message = "Chromium not installed (" + CHROMIUM + ", " + CHROMEDRIVER
                    + "); apt-get install chromium chromium-driver, or set FULCRUM_REQUIRE_BROWSER=1 to fail";
            if ("1".equals(System.getenv("FULCRUM_REQUIRE_BROWSER"))) {
                fail(message);
            }
            abort("Skipping: " + message);
        }
        node = Node.start(TestNodes.sqlite("page-node", dir.resolve("posts.db")));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=900,1000",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        // The Debian driver is used as is, so Selenium never tries to download one.
        driverService = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(driverService, options);
        browser.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (driverService != null) {
            driverService.stop();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    void writeEditAndDeleteChangeTheTimeline() throws Exception {
        TestHttp api = new TestHttp(node.port());
        api.postJson("/posts", "{\"author\":\"grace\",\"text\":\"Balancers should fail fast, not queue forever.\"}");
        api.postJson("/posts", "{\"author\":\"linus\",\"text\":\"Two nodes, one SQLite file, WAL mode.\"}");

        browser.get("http://127.0.0.1:" + node.port() + "/");
        await().atMost(WAIT).untilAsserted(() -> assertEquals(2, posts().size()));
        assertTrue(!browser.findElement(By.id("load-older")).isDisplayed(), "no older page yet");
        await().atMost(WAIT).untilAsserted(() ->
                assertTrue(browser.findElement(By.id("served-by")).getText().contains("page-node")));

        browser.findElement(By.id("author")).sendKeys("frank");
        browser.findElement(By.id("text")).sendKeys("hello from Chromium");
        browser.findElement(By.id("submit")).click();
        await().atMost(WAIT).untilAsserted(() -> assertEquals("hello from Chromium", texts().get(0)));
        WebElement mine = posts().get(0);
        long id = Long.parseLong(mine.getAttribute("data-id"));
        assertEquals(200, api.get("/posts/" + id).statusCode());

        // A post written elsewhere (another tab, another node) shows up without a reload.
        api.postJson("/posts", "{\"author\":\"ada\",\"text\":\"written through the API\"}");
        await().atMost(WAIT).untilAsserted(() -> assertEquals("written through the API", texts().get(0)));

        WebElement frankPost = postWithId(id);
        frankPost.findElement(By.cssSelector("button.edit")).click();
        WebElement area = postWithId(id).findElement(By.cssSelector("textarea.edit-text"));
        area.clear();
        area.sendKeys("hello again, edited");
        postWithId(id).findElement(By.cssSelector("button.save")).click();
        await().atMost(WAIT).untilAsserted(() ->
                assertEquals("hello again, edited", postWithId(id).findElement(By.cssSelector(".post-text")).getText()));
        assertEquals(2, JSON.readTree(api.get("/posts/" + id).body()).get("version").asInt());

        browser.findElement(By.id("text")).sendKeys("this one will be deleted");
        browser.findElement(By.id("submit")).click();
        await().atMost(WAIT).untilAsserted(() -> assertEquals("this one will be deleted", texts().get(0)));
        long doomed = Long.parseLong(posts().get(0).getAttribute("data-id"));
        posts().get(0).findElement(By.cssSelector("button.delete")).click();
        await().atMost(WAIT).untilAsserted(() -> assertTrue(!texts().contains("this one will be deleted")));
        assertEquals(404, api.get("/posts/" + doomed).statusCode());
        assertEquals(List.of("written through the API", "hello again, edited",
                "Two nodes, one SQLite file, WAL mode.", "Balancers should fail fast, not queue forever."), texts());

        saveScreenshotIfAsked();

        // Past one page (20 posts) the page offers the older ones.
        for (int i = 0; i < 20; i++) {
            api.postJson("/posts", "{\"author\":\"bulk\",\"text\":\"bulk " + i + "\"}");
        }
        browser.navigate().refresh();
        await().atMost(WAIT).untilAsserted(() -> assertEquals(20, posts().size()));
        WebElement older = browser.findElement(By.id("load-older"));
        assertTrue(older.isDisplayed());
        older.click();
        await().atMost(WAIT).untilAsserted(() -> assertEquals(24, posts().size()));
        assertEquals("Balancers should fail fast, not queue forever.", texts().get(23));
        assertTrue(!browser.findElement(By.id("load-older")).isDisplayed(), "the last page has no cursor");
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
        File shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
        Path out = Path.of(target).toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.copy(shot.toPath(), out, StandardCopyOption.REPLACE_EXISTING);
    }
}
