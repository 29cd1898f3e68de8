package io.fulcrum.balancer.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.BalancerYaml.Backend;
import io.fulcrum.testing.ScriptedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What operators install beside the balancer names only what it exports: the Prometheus alert
 * rules, the Grafana dashboard's queries and the metrics reference table of docs/operations.md are
 * checked against a real scrape of {@code /metrics} from a balancer with two regions, and the table
 * must list every {@code fulcrum_} metric that the scrape has.
 */
class MonitoringFilesTest {
    private static final Pattern METRIC = Pattern.compile("\\bfulcrum_[a-z0-9_]+");
    private static ScriptedBackend us1;
    private static ScriptedBackend eu1;
    private static Balancer balancer;
    /** Every sample name in the scrape ({@code _bucket}, {@code _count}... included). */
    private static final Set<String> samples = new TreeSet<>();
    /** Every metric family of the scrape, from its {@code # TYPE} line. */
    private static final Set<String> families = new TreeSet<>();

    @BeforeAll
    static void scrape() throws Exception {
        us1 = ScriptedBackend.start("us1");
        eu1 = ScriptedBackend.start("eu1");
        balancer = BalancerYaml.routing("us-east", "policy: least-busy",
                List.of(Backend.of(us1, "us-east"), Backend.of(eu1, "eu-west"))).start();
        HttpClient http = HttpClient.newHttpClient();
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + "/")).timeout(
                Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
        String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.adminPort()
                + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                families.add(line.split(" ")[2]);
            } else if (!line.startsWith("#") && !line.isBlank()) {
                samples.add(line.split("[{ ]", 2)[0]);
            }
        }
        assertFalse(text.contains("NaN"), text);
    }

    @AfterAll
    static void stop() {
        balancer.close();
        us1.close();
        eu1.close();
    }

    private static Path repoFile(String path) {
        Path p = Path.of(path);
        return Files.exists(p) ? p : Path.of("..", path);
    }

    private static void assertExported(String where, String expr) {
        Matcher m = METRIC.matcher(expr);
        boolean any = false;
        while (m.find()) {
            any = true;
            assertTrue(samples.contains(m.group()), where + " names " + m.group() + ", which /metrics does not export: "
                    + expr);
        }
        assertTrue(any, where + " names no fulcrum metric: " + expr);
    }

    @Test
    @SuppressWarnings("unchecked")
    void alertRulesParseAndNameOnlyExportedMetrics() throws Exception {
        Map<String, Object> root = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Files.readString(repoFile("deploy/prometheus/fulcrum-alerts.yml")));
        List<String> alerts = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) root.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                String alert = (String) rule.get("alert");
                alerts.add(alert);
                assertExported("alert " + alert, (String) rule.get("expr"));
                assertTrue(((Map<String, Object>) rule.get("annotations")).containsKey("summary"), alert);
            }
        }
        assertTrue(alerts.containsAll(List.of("FulcrumNoRoutableBackend", "FulcrumHighErrorRatio",
                "FulcrumHighLatencyP99", "FulcrumBackendEjected", "FulcrumConfigReloadFailed")), alerts.toString());
    }

    @Test
    void dashboardQueriesNameOnlyExportedMetrics() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(repoFile("deploy/grafana/fulcrum-dashboard.json").toFile());
        int queries = 0;
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                assertExported("panel \"" + panel.get("title").asText() + "\"", target.get("expr").asText());
                queries++;
            }
        }
        assertExported("the instance variable", dashboard.at("/templating/list/0/definition").asText());
        assertTrue(queries >= 20, "queries: " + queries);
    }

    @Test
    void theMetricsReferenceListsExactlyWhatIsExported() throws Exception {
        // A row whose meaning starts "with ..." names a metric that only a feature brings (a redis
        // section, a mirroring route): a plain balancer does not export it. Every other row is exported.
        Set<String> documented = new TreeSet<>();
        Set<String> conditional = new TreeSet<>();
        Pattern row = Pattern.compile("^\\| `(fulcrum_[a-z0-9_]+)` \\|[^|]*\\|[^|]*\\| (.*)$");
        for (String line : Files.readAllLines(repoFile("docs/operations.md"))) {
            Matcher m = row.matcher(line);
            if (m.find()) {
                (m.group(2).startsWith("with ") ? conditional : documented).add(m.group(1));
            }
        }
        Set<String> exported = new TreeSet<>();
        for (String f : families) {
            // Each histogram's _max gauge is described with its histogram.
            if (f.startsWith("fulcrum_") && !f.endsWith("_max")) {
                exported.add(f);
            }
        }
        assertEquals(exported, documented, "docs/operations.md's metrics table against /metrics");
        assertFalse(conditional.isEmpty(), "the rows of metrics a feature brings");
    }
}
