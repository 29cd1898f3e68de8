package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium for page tests, from Debian's {@code chromium} and {@code chromium-driver}
 * packages, with the page's console kept for the test to read. When either is missing the test is
 * skipped with a message that names what is missing and how to install it; with
 * {@code FULCRUM_REQUIRE_BROWSER=1} (CI) it fails instead.
 *
 * <p>Shared with the balancer's and the release's browser tests through this module's test jar.
 *
 * <p>Not thread safe! One instance per test.
 */
public final class Chromium implements AutoCloseable {
    /** The browser binary. */
    public static final Path BROWSER = Path.of("/usr/bin/chromium");
    /** The WebDriver binary for it. */
    public static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    /** How long a page test waits for the page to reach a state. */
    public static final Duration WAIT = Duration.ofSeconds(20);

    private final ChromeDriverService service;
    private final WebDriver driver;

    private Chromium(ChromeDriverService service, WebDriver driver) {
        this.service = service;
        this.driver = driver;
    }

    /**
     * Starts a browser with its profile in {@code profile} and the extra command-line
     * {@code arguments}, or skips (fails in CI) the test.
     */
    public static Chromium start(Path profile, String... arguments) throws IOException {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(BROWSER)) {
            missing.add(BROWSER + " (Debian package chromium)");
        }
        if (!Files.isExecutable(DRIVER)) {
            missing.add(DRIVER + " (Debian package chromium-driver)");
        }
        if (!missing.isEmpty()) {
            String message = "missing " + String.join(" and ", missing)
                    + "; install with: sudo apt-get install chromium chromium-driver"
                    + " (FULCRUM_REQUIRE_BROWSER=1 makes this a failure)";
            if ("1".equals(System.getenv("FULCRUM_REQUIRE_BROWSER"))) {
                fail(message);
            }
            abort("Skipping the browser test: " + message);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=900,1000",
                "--user-data-dir=" + Files.createDirectories(profile));
        options.addArguments(arguments);
        // The console (errors of the page's script among them) stays readable through the driver.
        options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
        // The Debian driver is used as is, so Selenium never tries to download one.
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        try {
            WebDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
            return new Chromium(service, driver);
        } catch (RuntimeException e) {
            service.stop();
            throw e;
        }
    }

    /** The browser. */
    public WebDriver driver() {
        return driver;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
        }
    }
}
