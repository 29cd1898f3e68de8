package io.fulcrum.balancer.balancing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Why a request went where it went: the client's region and where it came from (the region header
 * or the balancer's own), which pass of the selection found the backend (its own region, a
 * spill-over region, any capacity once everything was saturated, or panic mode), and, in full mode,
 * every candidate of the client's plan with the terms of its cost; and whether the request waited
 * in its pool's queue for a backend below max-in-flight, how long, and why it left without one.
 *
 * <p>A {@link LoadBalancer} fills it during {@link LoadBalancer#select(RequestInfo, DecisionTrace)};
 * the proxy writes {@link #compact()} to the access log and {@link #detailed()} to a debug response
 * header, and the admin API's {@code /explain} shows it. An <em>explain</em> trace asks for a
 * selection without counting it in the spill-over and panic counters.
 *
 * <p>Not thread safe: one instance per selection, confined to the thread that selects.
 */
public final class DecisionTrace {
    /** Which pass of the selection found the backend. */
    public enum Pass {
        /** A backend of the client's region below saturation. */
        LOCAL,
        /** A backend of another region, the nearer ones being saturated or unroutable. */
        SPILLOVER,
        /** Every region was saturated: any backend below max-in-flight, nearest region first. */
        SATURATED,
        /** No routable backend anywhere: any backend that is not draining. */
        PANIC,
        /** The request's affinity cookie or hash key named the backend. */
        AFFINITY,
        /** Nothing could take the request. */
        NONE;

        private final String label = name().toLowerCase(Locale.ROOT);

        /** The name in the access log and the decision header: {@code local}, {@code spillover}, ... */
        public String label() {
            return label;
        }
    }

    /**
     * One candidate as selection saw it.
     *
     * @param latencyMillis the latency selection weighs: least-busy's plain average, or the time the
     *     backend has been busy without an answer when longer
     * @param warmUp the share of its weight it gets while it warms up after coming back, in (0, 1]
     *     (least-busy: the larger of the slow-start ramp and the pool's latency over its own; other
     *     policies: the ramp)
     * @param errorRate its recent share of failed requests, in [0, 1]
     * @param errorFactor what the error rate multiplies its cost by, or NaN for a policy without cost
     * @param cost the policy's cost, or NaN for a policy without one
     */
    public record Candidate(String id, String region, String state, int inFlight, int maxInFlight,
            double latencyMillis, double reportedLoad, int weight, double warmUp, double errorRate,
            double errorFactor, double cost) {
    }

    /** A policy's view of a candidate's cost terms, for {@link #describe}. */
    interface CostTerms {
        double cost(Backend b);

        double warmUp(Backend b);

        double errorFactor(Backend b);
    }

    /** Candidates listed in {@link #detailed()}. */
    static final int MAX_DETAILED = 32;

    private final boolean full;
    private final boolean explain;
    private String clientRegion;
    private boolean regionFromHeader;
    private String planRegion;
    private Pass pass = Pass.NONE;
    private Backend chosen;
    private int excluded;
    private int heldDown;
    private List<Candidate> candidates = List.of();
    /** Time spent in the pool's queue, or -1 when the request did not wait there. */
    private long queuedNanos = -1;
    private String queueRefusal;
    /** What the compact form says of a hedge ({@link #hedged}), or {@code null} when none was sent. */
    private String hedge;

    private DecisionTrace(boolean full, boolean explain) {
        this.full = full;
        this.explain = explain;
    }

    /** A trace for the access log: region, pass and choice only. */
    public static DecisionTrace compactTrace() {
        return new DecisionTrace(false, false);
    }

    /** A trace with every candidate and its cost terms (the debug header). */
    public static DecisionTrace fullTrace() {
        return new DecisionTrace(true, false);
    }

    /** A full trace of a selection that is only shown, never used nor counted ({@code /explain}). */
    public static DecisionTrace explainTrace() {
        return new DecisionTrace(true, true);
    }

    boolean wantsCandidates() {
        return full;
    }

    /** Whether this selection is only explained: counters stay as they are. */
    boolean explain() {
        return explain;
    }

    void request(RequestInfo request, String planRegion) {
        this.clientRegion = request.clientRegion() == null ? planRegion : request.clientRegion();
        this.regionFromHeader = request.clientRegion() != null;
        this.planRegion = planRegion;
        this.excluded = request.excluded().size();
    }

    void chose(Backend backend, Pass pass) {
        this.chosen = backend;
        this.pass = backend == null ? Pass.NONE : pass;
    }

    /** Backends of the plan's own region that a failed connect held down at selection time. */
    void heldDown(int count) {
        this.heldDown = count;
    }

    /**
     * The request joined its pool's queue behind others without a selection of its own (the
     * queue keeps arrival order): the trace knows its region, no choice.
     *
     * @param localRegion the balancer's region, the client's when the request names none
     */
    public void queuedBehind(RequestInfo request, String localRegion) {
        request(request, request.clientRegion() == null ? localRegion : request.clientRegion());
        chose(null, Pass.NONE);
    }

    /**
     * The request waited {@code waitNanos} in its pool's queue; {@code refusal} says why it left
     * without a backend ({@code timeout}), or is {@code null} when this selection served it.
     */
    public void queued(long waitNanos, String refusal) {
        this.queuedNanos = Math.max(0, waitNanos);
        this.queueRefusal = refusal;
    }

    /** The pool's queue had no room for the request ({@code limits.max-queue}); it did not wait. */
    public void queueFull() {
        this.queuedNanos = -1;
        this.queueRefusal = "full";
    }

    /**
     * A hedge's second try went to {@code backend} (or found none with room: {@code null})
     * {@code afterNanos} after the first try was sent.
     */
    public void hedged(String backend, long afterNanos) {
        this.hedge = " hedge=" + (backend == null ? "none" : backend) + " after=" + afterNanos / 1_000_000 + "ms";
    }

    /** The hedge's second try answered first. */
    public void hedgeWon() {
        if (hedge != null) {
            hedge += " hedge-won";
        }
    }

    /**
     * The end of the compact form when a hedge was sent, e.g. {@code " hedge=b2 after=50ms hedge-won"},
     * else {@code null}.
     */
    public String hedge() {
        return hedge;
    }

    /** Time spent in the pool's queue, or -1 when the request did not wait there. */
    public long queuedNanos() {
        return queuedNanos;
    }

    /** Whole milliseconds spent in the pool's queue, or -1 when the request did not wait there. */
    public long queuedMillis() {
        return queuedNanos < 0 ? -1 : queuedNanos / 1_000_000;
    }

    /** Why the queue let the request go without a backend ({@code timeout}, {@code full}), or {@code null}. */
    public String queueRefusal() {
        return queueRefusal;
    }

    void candidates(List<Candidate> candidates) {
        this.candidates = List.copyOf(candidates);
    }

    public String clientRegion() {
        return clientRegion;
    }

    /**
     * Where the client's region came from: {@code header} when the region header named it,
     * {@code query} when {@code /explain}'s {@code region} parameter did, else {@code default}.
     */
    public String regionSource() {
        return !regionFromHeader ? "default" : explain ? "query" : "header";
    }

    /** The region whose plan was used (the balancer's own when the client's region has no backends). */
    public String planRegion() {
        return planRegion;
    }

    public Pass pass() {
        return pass;
    }

    /** The chosen backend, or {@code null} when none could take the request. */
    public Backend chosen() {
        return chosen;
    }

    /** Backends avoided because this request already tried them. */
    public int excluded() {
        return excluded;
    }

    /** Backends of the plan's own region held down after a failed connect when the selection was made. */
    public int heldDown() {
        return heldDown;
    }

    /** Every candidate of the plan, in plan order (full traces only; empty otherwise). */
    public List<Candidate> candidates() {
        return candidates;
    }

    /**
     * One short line for the access log, e.g.
     * {@code region=eu-west(header) pass=spillover to=us-east backend=us-1}, with {@code avoided=n}
     * when a retry avoided backends already tried, {@code held-down=n} when backends of the
     * client's region were held down after failed connects, {@code queued=ms} when the request
     * waited in its pool's queue, and {@code queue=timeout} or {@code queue=full} when the queue
     * let it go without a backend; {@code hedge=id after=ms} when a hedge's second try went to
     * backend {@code id} ({@code none}: no backend had room) that long after the first was sent,
     * and {@code hedge-won} when it answered first.
     */
    public String compact() {
        StringBuilder s = new StringBuilder(80)
                .append("region=").append(clientRegion).append('(').append(regionSource()).append(')')
                .append(" pass=").append(pass.label());
        if (chosen != null) {
            s.append(" to=").append(chosen.region()).append(" backend=").append(chosen.id());
        }
        if (excluded > 0) {
            s.append(" avoided=").append(excluded);
        }
        if (heldDown > 0) {
            s.append(" held-down=").append(heldDown);
        }
        if (queuedNanos >= 0) {
            s.append(" queued=").append(queuedMillis()).append("ms");
        }
        if (queueRefusal != null) {
            s.append(" queue=").append(queueRefusal);
        }
        if (hedge != null) {
            s.append(hedge);
        }
        return s.toString();
    }

    /**
     * The compact line followed by every candidate with its state and cost terms, separated by
     * {@code ; } so that it fits one header value: {@code id[region state in-flight/max lat=ms
     * load=x w=n warm=f err=r ef=x cost=c]} (warm: warm-up factor; err: recent error rate; ef: the
     * error term's multiplier of the cost). At most {@value #MAX_DETAILED} candidates, so the header stays a few
     * kilobytes at most.
     */
    public String detailed() {
        StringBuilder s = new StringBuilder(compact());
        int shown = 0;
        for (Candidate c : candidates) {
            if (shown++ == MAX_DETAILED) {
                s.append("; ").append(candidates.size() - MAX_DETAILED).append(" more (see GET /explain)");
                break;
            }
            s.append("; ").append(c.id()).append('[').append(c.region()).append(' ').append(c.state())
                    .append(" inflight=").append(c.inFlight()).append('/').append(c.maxInFlight())
                    .append(String.format(Locale.ROOT, " lat=%.3fms load=%.2f w=%d warm=%.2f err=%.2f",
                            c.latencyMillis(), c.reportedLoad(), c.weight(), c.warmUp(), c.errorRate()));
            if (!Double.isNaN(c.errorFactor())) {
                s.append(String.format(Locale.ROOT, " ef=%.2f", c.errorFactor()));
            }
            if (!Double.isNaN(c.cost())) {
                s.append(String.format(Locale.ROOT, " cost=%.4g", c.cost()));
            }
            s.append(']');
        }
        return s.toString();
    }

    /** Builds the candidate rows from the policy's view of their cost terms. */
    static List<Candidate> describe(List<Backend> backends, long nowNanos, CostTerms terms) {
        List<Candidate> out = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            BackendState s = b.state();
            String state = s.draining() ? "draining"
                    : !s.healthy() ? "down"
                    : s.ejected() ? "ejected"
                    : s.heldDown(nowNanos) ? "held-down"
                    : s.inFlight() >= b.maxInFlight() ? "full"
                    : "routable";
            out.add(new Candidate(b.id(), b.region(), state, s.inFlight(), b.maxInFlight(),
                    LeastBusyCost.latency(s, nowNanos, 0) / 1e6, s.reportedLoad(nowNanos), b.weight(), terms.warmUp(b),
                    s.recentErrorRate(nowNanos), terms.errorFactor(b), terms.cost(b)));
        }
        return out;
    }
}
