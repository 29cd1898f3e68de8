package io.fulcrum.balancer.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.exchange.RetryPolicy.Decision;
import io.fulcrum.balancer.exchange.RetryPolicy.Failure;
import org.junit.jupiter.api.Test;

/** The retry bookkeeping of one exchange: what spends attempts and budget, and what does not. */
class TriesTest {
    private static final Failure LOST_AFTER_SEND = new Failure(true, true, false);
    private static final Failure TIMEOUT = new Failure(true, false, false);
    private static final Failure HUNG = new Failure(true, false, true);

    private final ProxySettings oneAttempt = new ProxySettings(null, null, 1, 0, 1000, 1, 65536, 0, 100);
    private final RetryBudget budget = new RetryBudget();

    @Test
    void freeRetriesLeaveTheAttemptsForLaterFailures() {
        Tries tries = new Tries(RequestInfo.DEFAULT);
        for (int i = 0; i < 3; i++) {
            Decision d = tries.decide(LOST_AFTER_SEND, false, true, oneAttempt, 4, budget);
            assertEquals(Decision.RETRY_FREE, d, "lost connection " + (i + 1));
            tries.retrying(null, d);
        }
        // budget-percent 0: a budgeted retry is refused; a hung backend's is not, and it spends the one attempt.
        assertEquals(Decision.GIVE_UP, tries.decide(TIMEOUT, false, true, oneAttempt, 4, budget));
        Decision hung = tries.decide(HUNG, false, true, oneAttempt, 4, budget);
        assertEquals(Decision.RETRY_UNBUDGETED, hung);
        tries.retrying(null, hung);
        assertEquals(Decision.GIVE_UP, tries.decide(HUNG, false, true, oneAttempt, 4, budget), "the attempt is spent");
        assertEquals(0, budget.activeRetries());
    }

    @Test
    void aBudgetedRetryHoldsOneSlotUntilTheExchangeEnds() {
        ProxySettings twoAttempts = new ProxySettings(null, null, 1, 0, 1000, 2, 65536, 20, 100);
        Tries tries = new Tries(RequestInfo.DEFAULT);
        Decision first = tries.decide(TIMEOUT, false, true, twoAttempts, 4, budget);
        assertEquals(Decision.RETRY, first);
        tries.retrying(null, first);
        assertEquals(Decision.RETRY, tries.decide(TIMEOUT, false, true, twoAttempts, 4, budget));
        assertEquals(1, budget.activeRetries(), "one slot per request, kept for its later retries");
        tries.release(budget);
        assertEquals(0, budget.activeRetries());
    }
}
