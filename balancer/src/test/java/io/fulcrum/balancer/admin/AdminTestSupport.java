package io.fulcrum.balancer.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.testing.TestHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** HTTP helpers for the admin tests: a bounded HTTP/1.1 client and JSON and Prometheus readers. */
final class AdminTestSupport {
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final String HEALTH_PATH = "/_hc";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TestHttp client = new TestHttp();

    /** A YAML config on loopback with both ports ephemeral and one line per backend {@code id=port}. */
    static String yaml(String extra, String... backends) {
        StringBuilder y = new StringBuilder()
                .append("listen: { host: 127.0.0.1, port: 0 }\n")
                .append("admin: { host: 127.0.0.1, port: 0 }\n")
                .append("routing: { policy: round-robin, slow-start: 0s }\n")
                // One health round at start-up on a path the tests' backends answer (HEALTH_PATH);
                // the admin tests drive flags themselves. A generous timeout: the one round must not fail on a
                // backend that is still warming up on a loaded machine.
                .append("health: { path: " + HEALTH_PATH + ", interval: 1h, timeout: 10s }\n")
                .append(extra)
                .append("backends:\n");
        for (String b : backends) {
            String[] idPort = b.split("=");
            y.append("  - { id: ").append(idPort[0]).append(", url: \"http://127.0.0.1:").append(idPort[1])
                    .append("\" }\n");
        }
        return y.toString();
    }

    HttpResponse<String> get(int port, String path) {
        return send(HttpRequest.newBuilder(uri(port, path)).timeout(TIMEOUT).GET().build());
    }

    /** A POST as an operator's tool sends it: a JSON content type, from no web page. */
    HttpResponse<String> post(int port, String path) {
        return post(port, path, "Content-Type", "application/json");
    }

    /** A POST with exactly these headers (name, value, name, value...) and an empty body. */
    HttpResponse<String> post(int port, String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(port, path)).timeout(TIMEOUT)
                .POST(HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.build());
    }

    CompletableFuture<HttpResponse<String>> getAsync(int port, String path) {
        return client.sendAsync(HttpRequest.newBuilder(uri(port, path)).timeout(TIMEOUT).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) {
        return client.send(request);
    }

    private static URI uri(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The backends' ids in {@code GET /backends} order. */
    static List<String> ids(JsonNode backends) {
        List<String> ids = new ArrayList<>();
        backends.forEach(b -> ids.add(b.get("id").asText()));
        return ids;
    }

    /** The backend with this id in a {@code GET /backends} answer. */
    static JsonNode backend(JsonNode backends, String id) {
        for (JsonNode b : backends) {
            if (b.get("id").asText().equals(id)) {
                return b;
            }
        }
        throw new AssertionError("no backend " + id + " in " + backends);
    }

    /** The sum of every sample of {@code name} (labelled or not) whose labels include all of {@code labels}. */
    static double sum(String text, String name, String... labels) {
        double total = 0;
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "(?:\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE)
                .matcher(text);
        while (m.find()) {
            boolean all = true;
            for (String l : labels) {
                all &= m.group(1) != null && m.group(1).contains(l);
            }
            if (all) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    /** The value of one sample line in Prometheus text, or {@code null} when absent. */
    static Double sample(String text, String nameAndLabels) {
        Matcher m = Pattern.compile("^" + Pattern.quote(nameAndLabels) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        return m.find() ? Double.valueOf(m.group(1)) : null;
    }
}
