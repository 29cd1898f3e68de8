package io.fulcrum.balancer.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.BalancerYaml.Backend;
import io.fulcrum.testing.Chromium;
import io.fulcrum.testing.ScriptedBackend;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The status page in headless Chromium (Debian's chromium and chromium-driver packages): the
 * backend table with each state's reason (a long one cut to one line, whole in its tooltip), the
 * charts with their axes, filled on open from the balancer's own history, the drain button with an
 * admin token, and the stale banner once the balancer is gone. Skipped with a message naming what is missing when
 * Chromium is not installed, unless {@code FULCRUM_REQUIRE_BROWSER=1} (CI). Always saves a
 * screenshot to {@code target/status-page.png}; with {@code -Dfulcrum.screenshot=FILE} also there
 * (docs/status-page.png is made that way).
 */
class StatusPageBrowserTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TOKEN = "status-page-token-0123";

    @TempDir
    Path dir;
    private ScriptedBackend us1;
    private ScriptedBackend us2;
    private ScriptedBackend eu1;
    private Balancer balancer;
    private WebDriver browser;
    private Chromium chromium;

    @BeforeEach
    void start() throws Exception {
        chromium = Chromium.start(dir.resolve("chromium-profile"), "--window-size=1280,900");
        browser = chromium.driver();
        us1 = ScriptedBackend.start("us1");
        us2 = ScriptedBackend.start("us2");
        eu1 = ScriptedBackend.start("eu1");
        balancer = BalancerYaml.routing("us-east", "policy: least-busy",
                List.of(Backend.of(us1, "us-east"), Backend.of(us2, "us-east"), Backend.of(eu1, "eu-west")))
                .set("admin.token", TOKEN).start();
    }

    @AfterEach
    void stop() {
        if (chromium != null) {
            chromium.close();
        }
        if (balancer != null) {
            balancer.close();
        }
        for (ScriptedBackend b : new ScriptedBackend[] {us1, us2, eu1}) {
            if (b != null) {
                b.close();
            }
        }
    }

    /**
     * The text of the first element matching {@code selector}, read inside the page in one step: the
     * table is rebuilt every second, so an element found in one call may be gone in the next.
     */
    private String text(String selector) {
        Object t = ((JavascriptExecutor) browser).executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector);
        return String.valueOf(t);
    }

    /** The result of a script run in the page, as text. */
    private String script(String js, Object... args) {
        return String.valueOf(((JavascriptExecutor) browser).executeScript(js, args));
    }

    private String state(String id) {
        return text("#backends tr[data-backend='" + id + "'] td.state");
    }

    private void clickDrain(String id) {
        ((JavascriptExecutor) browser).executeScript(
                "document.querySelector(\"#backends tr[data-backend='\" + arguments[0] + \"'] button\").click();", id);
    }

    @Test
    void showsStatesWithReasonsDrainsWithTheTokenAndMarksItselfStale() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 30; i++) {
            http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/posts/" + i))
                    .timeout(WAIT).build(), HttpResponse.BodyHandlers.discarding());
        }
        balancer.registry().current().byId("eu1").state().setHealthy(false);
        balancer.registry().current().byId("us2").state().eject(System.nanoTime() + Duration.ofHours(1).toNanos());
        balancer.registry().refresh();
        // The balancer keeps a history of its own, sampled every second: wait for a few seconds of it.
        await().atMost(WAIT).until(() -> {
            JsonNode us1History = new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + balancer.adminPort() + "/backends/history")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).path("backends").path("us1");
            int withTraffic = 0;
            for (JsonNode sample : us1History) {
                withTraffic += sample.path("rps").asDouble() > 0 ? 1 : 0;
            }
            return us1History.size() >= 3 && withTraffic >= 1;
        });

        long opened = System.currentTimeMillis();
        browser.get("http://127.0.0.1:" + balancer.adminPort() + "/");
        await().atMost(WAIT).untilAsserted(() -> {
            assertEquals("3", String.valueOf(((JavascriptExecutor) browser).executeScript(
                    "return document.querySelectorAll('#backends tr').length;")));
            assertTrue(state("eu1").startsWith("down"), state("eu1"));
            assertTrue(state("eu1").contains("health checks fail"), state("eu1"));
            assertTrue(state("us1").startsWith("up"), state("us1"));
            assertEquals("9", String.valueOf(((JavascriptExecutor) browser).executeScript(
                    "return document.querySelectorAll('#charts .chart svg').length;")), "three charts per backend");
        });
        // Filled from the balancer's history at once: the chart starts before the page was opened.
        String rps = "#charts .chart[data-backend='us1'] svg[data-series='rps']";
        assertTrue(Long.parseLong(script("return document.querySelector(arguments[0]).dataset.first;", rps)) < opened,
                "points from before the page opened");
        assertTrue(Integer.parseInt(script("return [...document.querySelectorAll(arguments[0] + ' polyline')]"
                + ".reduce((n, l) => n + Number(l.dataset.points), 0);", rps)) >= 3, "a line of several points");
        // Axes: values on the left from 0 to a round top, time below.
        String yTicks = script("return [...document.querySelectorAll(arguments[0] + ' .axis-y text')]"
                + ".map(t => t.textContent).join('|');", rps);
        assertTrue(yTicks.matches("0\\|[0-9.]+\\|[0-9.]+"), yTicks);
        assertEquals("-5 min|-2.5 min|now", script("return [...document.querySelectorAll(arguments[0] + ' .axis-x text')]"
                + ".map(t => t.textContent).join('|');", rps));
        assertTrue(script("return document.querySelector(\"#charts .chart[data-backend='us1'] svg[data-series='p99'] "
                + ".axis-y text:last-child\").textContent;").endsWith("ms"), "p99 in ms");
        // A long reason stays on one line no wider than the column allows; the whole of it is the tooltip.
        String reason = "#backends tr[data-backend='us2'] .reason";
        assertEquals("outlier detection: failures in a row (ejection 1)",
                script("return document.querySelector(arguments[0]).title;", reason));
        assertEquals("true", script("const r = document.querySelector(arguments[0]);"
                + " const em = parseFloat(getComputedStyle(r).fontSize);"
                + " const box = r.getBoundingClientRect();"
                + " return String(box.width <= 18 * em + 1 && box.height < 2 * em && r.scrollWidth > r.clientWidth);",
                reason), "cut to one line of at most 18em");

        // Without the token the drain is refused and says why.
        clickDrain("us2");
        await().atMost(WAIT).untilAsserted(() ->
                assertTrue(text("#error").contains("401"), text("#error")));
        assertFalse(balancer.registry().current().byId("us2").state().draining());

        browser.findElement(By.id("token")).sendKeys(TOKEN);
        browser.findElement(By.id("summary")).click();
        clickDrain("us2");
        await().atMost(WAIT).untilAsserted(() -> {
            assertTrue(balancer.registry().current().byId("us2").state().draining());
            assertTrue(state("us2").startsWith("draining"), state("us2"));
            assertTrue(state("us2").contains("drained through the admin API"), state("us2"));
        });
        // Traffic while the page watches, a fifth of it failing at us1: the charts show both.
        us1.status(500);
        await().atMost(WAIT).untilAsserted(() -> {
            for (int i = 0; i < 10; i++) {
                http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/posts/" + i))
                        .timeout(WAIT).build(), HttpResponse.BodyHandlers.discarding());
                us1.status(i % 5 == 0 ? 500 : 200);
            }
            String chart = text("#charts .chart[data-backend='us1']");
            assertTrue(chart.matches("(?s).*requests/s: [1-9].*"), chart);
            assertTrue(chart.matches("(?s).*errors/s: (0\\.0[1-9]|0\\.[1-9]|[1-9]).*"), chart);
            assertTrue(chart.matches("(?s).*p99: \\d.*ms.*"), chart);
        });
        us1.status(200);
        screenshot();

        assertFalse(browser.findElement(By.id("stale")).isDisplayed());
        balancer.close();
        balancer = null;
        await().atMost(WAIT).untilAsserted(() -> {
            WebElement stale = browser.findElement(By.id("stale"));
            assertTrue(stale.isDisplayed());
            assertTrue(stale.getText().startsWith("STALE: no answer from the balancer"), stale.getText());
        });
    }

    private void screenshot() throws Exception {
        File shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
        Files.createDirectories(Path.of("target"));
        Files.copy(shot.toPath(), Path.of("target", "status-page.png"), StandardCopyOption.REPLACE_EXISTING);
        String target = System.getProperty("fulcrum.screenshot");
        if (target != null && !target.isBlank()) {
            Path out = Path.of(target).toAbsolutePath();
            Files.createDirectories(out.getParent());
            Files.copy(shot.toPath(), out, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
