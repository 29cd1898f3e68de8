package io.fulcrum.balancer.access;

import io.fulcrum.balancer.Balancer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Requests to a balancer under test as a browser or a script sends them, with the JDK's HTTP
 * client: a method, a target, headers in name-value pairs, and an optional body. Thread-safe.
 */
final class Browser {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Browser() {
    }

    /** {@code GET target} with {@code headers} (name, value, name, value...). */
    static HttpResponse<String> get(Balancer b, String target, String... headers) throws Exception {
        return send(b, "GET", target, null, headers);
    }

    /** {@code method target} with {@code body} ({@code null}: none) and {@code headers}. */
    static HttpResponse<String> send(Balancer b, String method, String target, String body, String... headers)
            throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.port() + target))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            r.headers(headers);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
}
