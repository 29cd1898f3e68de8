package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One WebSocket of the JDK's client (java.net.http), collecting its text messages, each whole
 * once its last fragment came, and how it closed.
 *
 * <p>The client calls the listener methods one at a time; the test thread reads through
 * {@link #messages}, {@link #next} and {@link #closed}, which are thread-safe.
 */
public final class WsListener implements WebSocket.Listener {
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<String> unread = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();

    /** Opens a WebSocket to {@code url} with {@code client}, delivering to this listener. */
    public WebSocket open(HttpClient client, String url) throws Exception {
        return client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(requireNonNull(url, "url")), this).get(20, TimeUnit.SECONDS);
    }

    /** Every message received so far, in order. */
    public List<String> messages() {
        return List.copyOf(received);
    }

    /** The next message not yet taken by this method, waiting at most 20 s for it. */
    public String next() throws InterruptedException {
        String m = unread.poll(20, TimeUnit.SECONDS);
        if (m == null) {
            throw new AssertionError("no message within 20 s");
        }
        return m;
    }

    /**
     * Sends {@code text} on {@code ws}, the socket this listener listens to, and returns the next
     * message: what an echoing backend sends back.
     */
    public String roundTrip(WebSocket ws, String text) throws Exception {
        ws.sendText(text, true).get(10, TimeUnit.SECONDS);
        return next();
    }

    /** The close code received (1006 when the connection ended without one), or -1 on an error. */
    public CompletableFuture<Integer> closed() {
        return closed;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            String message = partial.toString();
            partial.setLength(0);
            received.add(message);
            unread.add(message);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
        closed.complete(status);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        closed.complete(-1);
    }
}
