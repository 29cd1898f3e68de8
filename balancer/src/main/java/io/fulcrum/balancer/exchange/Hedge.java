package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.config.HedgeConfig;
import io.fulcrum.balancer.route.Route;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;

/**
 * The hedging of one exchange's request by its route ({@code routes[].hedge}): when the first try
 * has no response head within the delay (fixed, or the pool's observed p95 of hedging routes'
 * requests, {@link HeadLatencies}, at least {@code min-delay}), a second try goes to another
 * backend, and the first head of the two wins. It holds the race: when the second try is due (on
 * the connection's one response timer, through {@link Forwarder#responseDeadline()}), the second
 * try once sent, and while both race, the one that is not the {@link Forwarder}'s current try; the
 * exchange hands it each try's head and failure first. The loser is closed and ended as cancelled,
 * logged {@value #LOST}; the winner becomes the current try, which alone the {@link Relay} reads.
 * The second try spends one of {@code retry.attempts} and a retry-budget slot ({@link Tries}).
 * Hedges sent, won and refused (no attempt, budget or backend left) are counted per route and pool.
 *
 * <p>At most one hedge per request, only for the route's methods, only once the request is
 * complete and held for a replay, and never for an upgrade. Not thread safe: confined to the
 * client connection's event loop.
 */
final class Hedge {
    /** How the access log names the losing try. */
    static final String LOST = "hedge-lost";
    /** What becomes of a hedge, as its meter counts it. */
    static final List<String> RESULTS = List.of("sent", "won", "refused");

    private final Forwarder forwarder;
    private final HedgeConfig config;
    private final HeadLatencies latencies;
    private final String route;
    /** When the first try's request was sent, or 0 before. */
    private long firstSentNanos;
    /** When the second try is due, or 0 when it is not waited for. */
    private long due;
    /** The second try once sent (it stays this exchange's second try when it becomes the current one). */
    private UpstreamTry second;
    /** While both tries race for a head, the one that is not the current try; else {@code null}. */
    private UpstreamTry rival;
    private boolean fed;

    private Hedge(Forwarder forwarder, HedgeConfig config, HeadLatencies latencies, String route) {
        this.forwarder = forwarder;
        this.config = config;
        this.latencies = latencies;
        this.route = route;
    }

    /**
     * The hedging of {@code request} on {@code route}, or {@code null} when its route does not
     * hedge (one field read, the whole cost of hedging off), its method is not one the route
     * hedges, or it asks to upgrade.
     */
    static Hedge of(Route<BackendPool> route, Forwarder forwarder, HttpRequest request, boolean upgrades) {
        HedgeConfig config = route == null ? null : route.hedge();
        if (config == null || upgrades || !config.methods().contains(request.method().name())) {
            return null;
        }
        return new Hedge(forwarder, config, forwarder.pool.headLatencies(), route.name());
    }

    /**
     * The first try's request is completely sent at {@code nowNanos}: the second try is due after
     * the delay.
     *
     * @return when the second try is due, or 0 when none will be sent (already sent, or the p95
     *     still unknown)
     */
    long firstSent(long nowNanos) {
        if (second != null || firstSentNanos != 0) {
            return 0;
        }
        firstSentNanos = nowNanos;
        long delay;
        if (config.observed()) {
            long p95 = latencies.p95Nanos();
            if (p95 < 0) {
                return 0;
            }
            delay = Math.max(p95, config.minDelay().toNanos());
        } else {
            delay = config.delay().toNanos();
        }
        due = nowNanos + delay;
        return due;
    }

    /** The next deadline of the race: the second try's start, or its per-try deadline; 0 for none. */
    long deadline() {
        return due != 0 ? due : rival == null ? 0 : rival.deadline();
    }

    /**
     * The current try ended outside a race (it failed, or the exchange ends): a second try no
     * longer waited for is never sent, so that a retry waiting in the queue or connecting is not
     * taken for a hedge's turn.
     */
    void currentEnded() {
        due = 0;
    }

    /** Whether {@code t} is the second try (its connection, once had, is not the exchange's state). */
    boolean isSecond(UpstreamTry t) {
        return t == second;
    }

    /**
     * The response timer fired: the second try is due, or one of the two racing tries passed its
     * per-try deadline and drops out of the race.
     *
     * @return whether the hedge took the timeout; else the current try's per-try deadline passed
     */
    boolean onTimeout(long nowNanos) {
        if (due != 0 && nowNanos - due >= 0) {
            due = 0;
            send(nowNanos);
            return true;
        }
        if (rival == null) {
            return false;
        }
        UpstreamTry late = passed(rival, nowNanos) ? rival : passed(forwarder.current(), nowNanos) ? forwarder.current() : null;
        if (late != null) {
            lost(late, Outcome.TIMEOUT);
        }
        return true;
    }

    private static boolean passed(UpstreamTry t, long nowNanos) {
        return t.deadline() != 0 && nowNanos - t.deadline() >= 0;
    }

    /**
     * Starts the second try at another backend beside the current one, where {@code retry.attempts}
     * and the retry budget allow it and a backend has room now (it never waits in the queue).
     */
    private void send(long nowNanos) {
        Forwarder f = forwarder;
        UpstreamTry first = f.current();
        if (f.exchange.state() != ExchangeState.AWAITING_HEAD || first == null) {
            return;
        }
        Backend chosen = null;
        if (f.tries.mayHedge(f.settings, f.pool.registry().current().backends().size(), f.pool.retryBudget())) {
            f.tries.retrying(first.backend(), RetryPolicy.Decision.RETRY);
            chosen = f.choice.hedge(f.tries.routing(), nowNanos - firstSentNanos);
            if (chosen == null) {
                f.tries.hedgeRefused(f.pool.retryBudget());
            }
        }
        count(chosen == null ? "refused" : "sent");
        if (chosen == null) {
            return;
        }
        f.tries.started();
        UpstreamTry t = new UpstreamTry(chosen, f.pool, f.proxy, f.exchange, nowNanos);
        second = t;
        rival = t;
        t.connect(f.client.eventLoop(), false);
    }

    /**
     * A response head from {@code t} with {@code status}. While two tries race, the first head
     * wins: the other try is closed and ended as cancelled, logged {@value #LOST}; but a 101 or a
     * 502, 503 or 504 only takes its own try out of the race while the other may still answer.
     *
     * @return whether the head goes on to the client (or to a retry); {@code t} is then the current try
     */
    boolean headWins(UpstreamTry t, int status) {
        UpstreamTry current = forwarder.current();
        long now = forwarder.proxy.clock().nanoTime();
        if (rival != null && (t == rival || t == current)) {
            if (status == 101 || status == 502 || status == 503 || status == 504) {
                lost(t, status == 101 ? Outcome.MALFORMED : Outcome.SERVER_ERROR);
                return false;
            }
            UpstreamTry loser = t == current ? rival : current;
            rival = null;
            loser.close();
            forwarder.current(t);
            forwarder.ended(loser, Outcome.CANCELLED, LOST, now);
            if (t == second) {
                count("won");
                forwarder.choice.hedgeWon();
            }
        }
        if (!fed && firstSentNanos != 0) {
            // The pool's observed time to a head hears of this request once.
            fed = true;
            latencies.record(now - firstSentNanos);
        }
        return true;
    }

    /**
     * {@code t} failed on its own ({@link UpstreamTry.Listener#onFailed}).
     *
     * @return whether it was one of two racing tries, now out of the race, the other going on
     */
    boolean failed(UpstreamTry t, Outcome outcome) {
        if (rival == null || (t != rival && t != forwarder.current())) {
            return false;
        }
        lost(t, outcome);
        return true;
    }

    /** {@code t}, one of two racing tries, is closed and ended; the other goes on as the current try. */
    private void lost(UpstreamTry t, Outcome outcome) {
        UpstreamTry other = t == rival ? forwarder.current() : rival;
        rival = null;
        t.close();
        forwarder.current(other);
        forwarder.ended(t, outcome, null, forwarder.proxy.clock().nanoTime());
    }

    /** The exchange's tries end with {@code outcome}: the one racing with the current one, if any, too. */
    void dropRival(Outcome outcome) {
        UpstreamTry t = rival;
        if (t != null) {
            rival = null;
            t.close();
            forwarder.ended(t, outcome, null, forwarder.proxy.clock().nanoTime());
        }
    }

    /** Reads the connection of {@code t} on while it races for a head; the relay reads only the current try. */
    void readOn(UpstreamTry t) {
        if (t == rival) {
            t.read();
        }
    }

    private void count(String result) {
        if (forwarder.proxy.requestMetrics() != null) {
            forwarder.proxy.requestMetrics().hedged(route, forwarder.pool.name(), result);
        }
    }
}
