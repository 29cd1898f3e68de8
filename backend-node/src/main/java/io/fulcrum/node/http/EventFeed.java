package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.fulcrum.node.config.EventsConfig;
import io.fulcrum.node.store.ClientPosition;
import io.fulcrum.node.store.ControlThreads;
import io.fulcrum.node.store.PostChange;
import io.fulcrum.node.store.StoreTopology;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one watcher of the shared store, and the fan-out of what it sees to the open event
 * streams ({@code GET /events}): however many pages are open, the node asks the store one cheap
 * question per {@code events.poll-interval} ("changes after seq N?", a primary-key range read of
 * the change log), so a post written through any node reaches the streams of every node.
 *
 * <p>Each change is encoded once as a Server-Sent Event whose {@code id} is its seq in the change
 * log; the last {@value #RECENT} events are kept, so a client that reconnects with
 * {@code Last-Event-ID} (to this node or another: the seqs are the store's) gets what it missed. One
 * whose id is older than that gets a {@code reset} event and reloads the timeline instead. Every
 * stream gets a comment line each {@code events.heartbeat}, which keeps proxies with an idle
 * timeout from closing it. A stream whose client does not keep up (its connection stops being
 * writable) is closed; its client reconnects and resumes.
 *
 * <p>Thread-safe. Store reads, the recent events and the subscriber list are confined to the one
 * thread of the executor given to it (never an event loop); {@link #tryReserve} and
 * {@link #release} are lock-free and may be called from any thread.
 */
public final class EventFeed implements AutoCloseable {
    /** How many recent events are kept for clients that reconnect. */
    static final int RECENT = 1024;
    /** The reconnection delay a browser is told to use ({@code retry:}), in milliseconds. */
    static final int RETRY_MILLIS = 2000;
    /** Changes read per store query; a longer backlog is read by the next queries at once. */
    private static final int BATCH = 256;
    private static final Logger log = LoggerFactory.getLogger(EventFeed.class);
    private static final byte[] HEARTBEAT = ":\n\n".getBytes(StandardCharsets.US_ASCII);

    /**
     * One open stream, as the feed sees it. Its methods are called on the feed's thread and must
     * not block.
     */
    public interface Subscriber {
        /** The stream is registered; its first bytes are {@code preamble}. */
        void opened(byte[] preamble);

        /** The store could not be read, so the stream cannot start (the client gets 503). */
        void refused();

        /** Sends events; false when the stream is gone (closed, or closed now for being too slow). */
        boolean send(byte[] events);
    }

    /** One encoded event. */
    private record Event(long seq, byte[] bytes) {
    }

    /** A subscriber and the seq it has seen up to. Confined to the feed's thread. */
    private static final class Subscription {
        final Subscriber subscriber;
        long after;

        Subscription(Subscriber subscriber, long after) {
            this.subscriber = subscriber;
            this.after = after;
        }
    }

    private final StoreTopology stores;
    private final EventsConfig config;
    private final JsonCodec json;
    private final String nodeId;
    private final ScheduledExecutorService thread;
    private final AtomicInteger streams = new AtomicInteger();

    // Confined to the feed's thread.
    private final ArrayDeque<Event> recent = new ArrayDeque<>();
    private final List<Subscription> subscriptions = new ArrayList<>();
    /** The seq of the newest change seen, or -1 before the store first answered. */
    private long lastSeq = -1;
    /** Every change after this seq is in {@link #recent} (or newer than {@link #lastSeq}). */
    private long knownAfter = -1;
    private boolean storeFailing;

    /**
     * Creates the feed; {@link #start()} begins the polling.
     *
     * @param thread a single-threaded executor for this feed alone, which {@link #close()} shuts down
     */
    public EventFeed(StoreTopology stores, EventsConfig config, JsonCodec json, String nodeId,
            ScheduledExecutorService thread) {
        this.stores = requireNonNull(stores, "stores");
        this.config = requireNonNull(config, "config");
        this.json = requireNonNull(json, "json");
        this.nodeId = requireNonNull(nodeId, "nodeId");
        this.thread = requireNonNull(thread, "thread");
    }

    /** Starts polling the store and sending heartbeats. */
    public void start() {
        long poll = config.pollInterval().toMillis();
        long beat = config.heartbeat().toMillis();
        thread.scheduleWithFixedDelay(this::poll, 0, poll, TimeUnit.MILLISECONDS);
        thread.scheduleWithFixedDelay(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
    }

    /** Reserves room for one more stream; false when {@code events.max-streams} are open. */
    public boolean tryReserve() {
        while (true) {
            int now = streams.get();
            if (now >= config.maxStreams()) {
                return false;
            }
            if (streams.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** The streams open (or reserved) now. */
    public int streams() {
        return streams.get();
    }

    /**
     * Registers a stream that holds a reservation. {@code lastEventId} is the id of the last event
     * its client saw, or -1 for a new client, which gets the changes from now on.
     */
    public void subscribe(Subscriber subscriber, long lastEventId) {
        requireNonNull(subscriber, "subscriber");
        execute(() -> register(subscriber, lastEventId), subscriber::refused);
    }

    /** Unregisters a stream (its connection closed) and frees its reservation. Call once per reservation. */
    public void release(Subscriber subscriber) {
        streams.decrementAndGet();
        execute(() -> subscriptions.removeIf(s -> s.subscriber == subscriber), () -> { });
    }

    private void execute(Runnable task, Runnable ifStopped) {
        try {
            thread.execute(task);
        } catch (RejectedExecutionException e) {
            // The node is stopping; its connections close with it.
            ifStopped.run();
        }
    }

    private void register(Subscriber subscriber, long lastEventId) {
        if (lastSeq < 0 && !readLastSeq()) {
            subscriber.refused();
            return;
        }
        ByteArrayOutputStream preamble = new ByteArrayOutputStream();
        ascii(preamble, "retry: " + RETRY_MILLIS + "\n: node " + nodeId + "\n\n");
        long after = lastSeq;
        if (lastEventId >= 0 && lastEventId >= knownAfter) {
            // Replay what the client missed; an id ahead of this node (another node polled sooner)
            // means the client waits for this node to reach it.
            for (Event e : recent) {
                if (e.seq() > lastEventId) {
                    preamble.writeBytes(e.bytes());
                }
            }
            after = Math.max(lastSeq, lastEventId);
        } else if (lastEventId >= 0) {
            // Older than what is kept: the client reloads its timeline, and follows from here.
            ascii(preamble, "id: " + lastSeq + "\nevent: reset\ndata: {}\n\n");
        }
        Subscription s = new Subscription(subscriber, after);
        subscriptions.add(s);
        subscriber.opened(preamble.toByteArray());
    }

    private boolean readLastSeq() {
        try {
            long seq = stores.read(ClientPosition.none(), store -> store.lastChange());
            lastSeq = seq;
            knownAfter = seq;
            return true;
        } catch (RuntimeException e) {
            storeProblem(e);
            return false;
        }
    }

    private void poll() {
        try {
            if (lastSeq < 0 && !readLastSeq()) {
                return;
            }
            List<PostChange> changes;
            do {
                long after = lastSeq;
                changes = stores.read(ClientPosition.none(), store -> store.changesSince(after, BATCH));
                if (storeFailing) {
                    storeFailing = false;
                    log.info("Live feed: the store answers again");
                }
                publish(changes);
            } while (changes.size() == BATCH);
        } catch (RuntimeException e) {
            // The store is down or slow: the streams stay open and the next poll tries again.
            storeProblem(e);
        }
    }

    private void storeProblem(RuntimeException e) {
        if (!storeFailing) {
            storeFailing = true;
            log.warn("Live feed: cannot read the change log ({}); retrying every {}", e.getMessage(),
                    config.pollInterval());
        }
    }

    private void publish(List<PostChange> changes) {
        if (changes.isEmpty()) {
            return;
        }
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        for (PostChange c : changes) {
            Event e = new Event(c.seq(), encode(c));
            recent.addLast(e);
            if (recent.size() > RECENT) {
                knownAfter = recent.removeFirst().seq();
            }
            batch.writeBytes(e.bytes());
            lastSeq = c.seq();
        }
        byte[] all = batch.toByteArray();
        long first = changes.get(0).seq();
        Iterator<Subscription> it = subscriptions.iterator();
        while (it.hasNext()) {
            Subscription s = it.next();
            byte[] bytes = s.after < first ? all : since(s.after);
            if (bytes.length > 0 && !s.subscriber.send(bytes)) {
                it.remove();
            }
            s.after = Math.max(s.after, lastSeq);
        }
    }

    /** The kept events after {@code seq}, for a client that was ahead of this node. */
    private byte[] since(long seq) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Event e : recent) {
            if (e.seq() > seq) {
                out.writeBytes(e.bytes());
            }
        }
        return out.toByteArray();
    }

    private void heartbeat() {
        subscriptions.removeIf(s -> !s.subscriber.send(HEARTBEAT));
    }

    /**
     * One change as an event: {@code post} with the post as it is now (created or edited), or
     * {@code delete} with its id. The data is one line of JSON (Jackson escapes the newlines of a text).
     */
    private byte[] encode(PostChange c) {
        String data = c.deleted() ? "{\"id\":" + c.postId() + "}"
                : new String(json.post(c.post()), StandardCharsets.UTF_8);
        return ("id: " + c.seq() + "\nevent: " + (c.deleted() ? "delete" : "post") + "\ndata: " + data + "\n\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static void ascii(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** Stops polling; the streams end with the node's connections. */
    @Override
    public void close() {
        ControlThreads.stop(thread);
    }
}
