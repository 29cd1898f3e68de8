package io.fulcrum.dist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.testing.Chromium;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;

/**
 * The timeline page through the real balancer, in headless Chromium: each action says which node
 * served it (the balancer's {@code X-Fulcrum-Backend}, turned on in the local cluster's config), and
 * when that node is killed the next action is served by the other one. Two post servers (us-1, us-2)
 * and the balancer run from the built jars, on the example configs moved to free ports.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class BalancedPageBrowserTest {
    @TempDir
    Path dir;

    @Test
    void everyActionNamesItsNodeAndAKilledNodeIsReplaced() throws Exception {
        Path root = LocalFiles.root();
        LocalFiles.Ports ports = LocalFiles.exampleConfigs(dir);
        Path config = dir.resolve("config");
        String java = LocalFiles.java();
        String nodeJar = root.resolve("backend-node/target/backend-node.jar").toString();
        try (Chromium chromium = Chromium.start(dir.resolve("chromium-profile")); LocalFiles files = new LocalFiles()) {
            WebDriver browser = chromium.driver();
            Process us1 = files.start(root, dir.resolve("us-1.log"), Map.of(), java, "-Xmx128m", "-jar", nodeJar,
                    "--config", config.resolve("node-us-1.yaml").toString());
            Process us2 = files.start(root, dir.resolve("us-2.log"), Map.of(), java, "-Xmx128m", "-jar", nodeJar,
                    "--config", config.resolve("node-us-2.yaml").toString());
            files.start(root, dir.resolve("balancer.log"), Map.of(), java, "-Xmx128m", "-jar",
                    root.resolve("balancer/target/balancer.jar").toString(),
                    "--config", config.resolve("balancer.yaml").toString());
            files.awaitOk(ports.us1(), "/health");
            files.awaitOk(ports.us2(), "/health");
            files.awaitOk(ports.admin(), "/ready");

            browser.get("http://127.0.0.1:" + ports.balancer() + "/?poll=60000");
            browser.findElement(By.id("author")).sendKeys("frank");
            browser.findElement(By.id("text")).sendKeys("which node took this?");
            browser.findElement(By.id("submit")).click();
            pageWait().untilAsserted(() ->
                    assertTrue(status(browser).startsWith("Posted (node "), status(browser)));
            String first = servedBy(browser);
            assertTrue(List.of("us-1", "us-2").contains(first), first);
            assertTrue(status(browser).contains("(node " + first + ")"), status(browser));
            assertTrue(browser.findElement(By.id("served-by")).getText().contains("through the balancer"));

            // Kill the node that served; the next action is served by the other, and the page says so.
            Process served = first.equals("us-1") ? us1 : us2;
            String other = first.equals("us-1") ? "us-2" : "us-1";
            served.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            browser.findElement(By.id("text")).sendKeys("and this one?");
            browser.findElement(By.id("submit")).click();
            pageWait().untilAsserted(() -> {
                assertEquals("Posted (node " + other + ").", status(browser));
                assertEquals(other, servedBy(browser));
            });
            assertEquals(2, browser.findElements(By.cssSelector("#timeline li.post")).size());
        }
    }

    private static String status(WebDriver browser) {
        return browser.findElement(By.id("status")).getText();
    }

    private static String servedBy(WebDriver browser) {
        return browser.findElement(By.id("served-by")).getAttribute("data-node");
    }

    /**
     * Waits for the page to reach a state. The page redraws a post when it changes, so an element
     * found a moment ago may be gone: that is a reason to look again, not a failure.
     */
    private static ConditionFactory pageWait() {
        return await().atMost(Chromium.WAIT).ignoreException(StaleElementReferenceException.class);
    }
}
