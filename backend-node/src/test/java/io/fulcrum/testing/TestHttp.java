package io.fulcrum.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntSupplier;

/**
 * A small HTTP/1.1 client for tests against a server on 127.0.0.1, with bounded timeouts.
 *
 * <p>Thread-safe (the JDK client is).
 */
public final class TestHttp {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final IntSupplier port;

    /**
     * Creates a client for requests that the caller builds whole, each naming its own server: only
     * {@link #send} and {@link #sendAsync} apply.
     */
    public TestHttp() {
        this(() -> {
            throw new IllegalStateException("no port of its own: build whole requests for send and sendAsync");
        });
    }

    /** Creates a client for {@code http://127.0.0.1:port}. */
    public TestHttp(int port) {
        this(() -> port);
    }

    /**
     * Creates a client for {@code http://127.0.0.1} on the port that {@code port} gives when each
     * request starts (a server started after the client, as by {@link FreshNode}).
     */
    public TestHttp(IntSupplier port) {
        this.port = port;
    }

    /** Starts a request for {@code path}, with the default timeout. */
    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.getAsInt() + path)).timeout(TIMEOUT);
    }

    /** GET {@code path}. */
    public HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    /** POST a JSON body. */
    public HttpResponse<String> postJson(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** PUT a JSON body. */
    public HttpResponse<String> putJson(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** DELETE {@code path}. */
    public HttpResponse<String> delete(String path) {
        return send(request(path).DELETE().build());
    }

    /** Sends a request and waits for the whole response. */
    public HttpResponse<String> send(HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends a request without waiting. */
    public CompletableFuture<HttpResponse<String>> sendAsync(HttpRequest request) {
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }
}
