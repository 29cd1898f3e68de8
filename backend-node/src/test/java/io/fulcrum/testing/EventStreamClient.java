package io.fulcrum.testing;

import org.awaitility.Awaitility;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Server-Sent Events client over the JDK's HTTP client: opens a stream, collects its events as
 * they arrive (on the client's own thread), and lets a test wait for one. Thread-safe.
 */
public final class EventStreamClient implements AutoCloseable {
    /** One event: its id (null when absent), type and data; a comment line is type ":". */
    public record Event(String id, String type, String data) {
    }

    private final HttpResponse<Stream<String>> response;
    private final List<Event> events = new CopyOnWriteArrayList<>();

    private EventStreamClient(HttpResponse<Stream<String>> response) {
        this.response = response;
        Thread reader = new Thread(this::read, "sse-client");
        reader.setDaemon(true);
        reader.start();
    }

    /** Opens {@code GET /events} on {@code port} with extra request headers; returns once the head is in. */
    public static EventStreamClient open(int port, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/events"));
        headers.forEach(b::header);
        HttpResponse<Stream<String>> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .sendAsync(b.build(), HttpResponse.BodyHandlers.ofLines()).get(20, TimeUnit.SECONDS);
        return new EventStreamClient(r);
    }

    /** The response (status and headers). */
    public HttpResponse<Stream<String>> response() {
        return response;
    }

    private void read() {
        String id = null;
        String type = null;
        StringBuilder data = null;
        try (Stream<String> lines = response.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (line.isEmpty()) {
                    if (type != null || data != null) {
                        events.add(new Event(id, type == null ? "message" : type, data == null ? "" : data.toString()));
                    }
                    id = null;
                    type = null;
                    data = null;
                } else if (line.startsWith(":")) {
                    events.add(new Event(null, ":", line.substring(1).trim()));
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    type = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = data == null ? new StringBuilder(line.substring(6)) : data.append('\n').append(line.substring(6));
                }
            }
        } catch (RuntimeException e) {
            // Closed by the test or by the server: the events so far stay readable.
        }
    }

    /** Every event so far, comments included. */
    public List<Event> events() {
        return new ArrayList<>(events);
    }

    /** Events of {@code type} so far. */
    public List<Event> events(String type) {
        return events.stream().filter(e -> e.type().equals(type)).toList();
    }

    /** Waits until an event of {@code type} whose data contains {@code text} arrived, and returns it. */
    public Event await(String type, String text, Duration atMost) {
        return Awaitility.await().atMost(atMost).until(() -> events.stream()
                .filter(e -> e.type().equals(type) && e.data().contains(text)).findFirst().orElse(null),
                e -> e != null);
    }

    @Override
    public void close() {
        response.body().close();
    }
}
