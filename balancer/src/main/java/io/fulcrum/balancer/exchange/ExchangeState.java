package io.fulcrum.balancer.exchange;

/**
 * Where an {@link Exchange} stands, and which state may follow which:
 *
 * <pre>
 *   SELECTING ──► CONNECTING ──► SENDING ──► AWAITING_HEAD ──► STREAMING ──► DONE
 *                                                  └──── 101 ────► TUNNELING ───┘
 *       │  ▲           │            │  │            │                          ▲
 *       │  └───────────┴────────────┘  └────────────┼── (early response) ──►   │
 *       │      retry: a new UpstreamTry              │                          │
 *       └──────────── failure, cancel, no backend, queue full ──────────────────┘
 *
 *   SELECTING ──► QUEUED ──► SELECTING   every backend full: wait, and select again on a turn
 *                   └──────► DONE        the wait ran out (503), or the client left
 * </pre>
 *
 * The exchange checks each transition with {@code assert}, so an impossible one fails the tests
 * loudly and costs nothing in production. Immutable.
 */
enum ExchangeState {
    /** Choosing a backend (first try or retry). */
    SELECTING,
    /** Every backend was full: waiting in the pool's queue for a turn to select again. */
    QUEUED,
    /** Waiting for a new connection to the chosen backend. */
    CONNECTING,
    /** The request head is written; its body may still be coming from the client. */
    SENDING,
    /** The request is completely written; waiting for the final response head. */
    AWAITING_HEAD,
    /** The response head went to the client; its body is being relayed. Nothing is retried now. */
    STREAMING,
    /** The backend switched protocols (101): bytes are relayed both ways until either side closes. */
    TUNNELING,
    /** Answered, failed or cancelled; every resource is released. */
    DONE;

    /** Whether {@code next} may follow this state. */
    boolean canGoTo(ExchangeState next) {
        return switch (this) {
            // SELECTING again: a connection that failed at once (no listener turn) is retried at once.
            case SELECTING -> next == CONNECTING || next == SENDING || next == SELECTING || next == QUEUED
                    || next == DONE;
            case QUEUED -> next == SELECTING || next == DONE;
            case CONNECTING -> next == SENDING || next == SELECTING || next == DONE;
            case SENDING -> next == AWAITING_HEAD || next == STREAMING || next == SELECTING || next == DONE;
            case AWAITING_HEAD -> next == STREAMING || next == TUNNELING || next == SELECTING || next == DONE;
            case STREAMING, TUNNELING -> next == DONE;
            case DONE -> false;
        };
    }
}
