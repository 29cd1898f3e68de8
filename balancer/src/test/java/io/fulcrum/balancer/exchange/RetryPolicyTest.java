package io.fulcrum.balancer.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.exchange.RetryPolicy.Decision;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The retry rules as a table, and the retry budget's sizing. */
class RetryPolicyTest {

    @ParameterizedTest(name = "{9}")
    @CsvSource(delimiter = '|', textBlock = """
            false | true  | false | false | false | 0 | 2 | 1 | 4 | RETRY_FREE       | connect failure: free whatever the method
            false | true  | false | false | false | 2 | 2 | 3 | 4 | RETRY_FREE       | lost connections spend no attempt
            false | true  | false | false | true  | 0 | 2 | 5 | 4 | GIVE_UP          | every backend lost: bounded by the pool
            false | true  | false | false | true  | 0 | 2 | 1 | 1 | RETRY_FREE       | a pool of one: once more, on a new connection
            false | true  | false | false | true  | 0 | 2 | 2 | 1 | GIVE_UP          | a pool of one: not twice
            false | true  | false | false | true  | 0 | 0 | 1 | 4 | GIVE_UP          | attempts 0 turns retries off
            false | true  | false | true  | true  | 0 | 2 | 1 | 4 | GIVE_UP          | nothing after the response began
            true  | true  | false | false | true  | 0 | 2 | 1 | 4 | RETRY_FREE       | reset after send: the backend died, its work with it
            true  | true  | false | false | true  | 2 | 2 | 3 | 4 | RETRY_FREE       | a region dying at once: still free
            true  | true  | false | false | false | 0 | 2 | 1 | 4 | GIVE_UP          | reset after send, not repeatable (POST without key)
            true  | false | false | false | true  | 0 | 2 | 0 | 4 | RETRY            | a timeout, 5xx or malformed answer needs the budget
            true  | false | true  | false | true  | 0 | 2 | 0 | 4 | RETRY_UNBUDGETED | a timeout at a hung backend needs no budget
            true  | false | true  | false | true  | 2 | 2 | 0 | 4 | GIVE_UP          | but still spends an attempt
            true  | false | false | false | true  | 2 | 2 | 0 | 4 | GIVE_UP          | attempts spent
            true  | false | false | false | false | 0 | 2 | 0 | 4 | GIVE_UP          | not repeatable (POST without key, body not kept)
            true  | false | false | true  | true  | 0 | 2 | 0 | 4 | GIVE_UP          | sent, response began
            """)
    void decides(boolean sent, boolean lost, boolean stalled, boolean responseStarted, boolean repeatable,
            int retriesAfterSend, int attempts, int lostConnections, int poolSize, Decision expected, String why) {
        assertEquals(expected, RetryPolicy.decide(new RetryPolicy.Failure(sent, lost, stalled), responseStarted,
                repeatable, retriesAfterSend, attempts, lostConnections, poolSize), why);
    }

    @Test
    void aFiveHundredFromABackendFailingAloneNeedsNoBudget() {
        assertEquals(Decision.RETRY_UNBUDGETED, RetryPolicy.decide(new RetryPolicy.Failure(true, false, false, true),
                false, true, 0, 2, 0, 4), "one backend failing while its peers are well is no brown-out");
        assertEquals(Decision.GIVE_UP, RetryPolicy.decide(new RetryPolicy.Failure(true, false, false, true),
                false, true, 2, 2, 0, 4), "it still spends an attempt");
    }

    @Test
    void theBudgetFitsOneBackendsShareOfTheRequests() {
        RetryBudget budget = new RetryBudget();
        for (int i = 0; i < 30; i++) {
            budget.requestStarted();
        }
        // 30 requests over 3 backends: about 10 are on each, a few more on one that least-busy kept
        // sending to until it was seen to stall; 20% would allow only 6.
        assertEquals(10 + RetryBudget.MIN_CONCURRENT_RETRIES, budget.allowed(20, 3));
        int granted = 0;
        while (budget.tryStartRetry(20, 3)) {
            granted++;
        }
        assertEquals(10 + RetryBudget.MIN_CONCURRENT_RETRIES, granted);
        assertEquals(1, budget.refusedRetries());
    }

    @Test
    void theBudgetIsTheLargerOfShareAndPercentPlusAFew() {
        RetryBudget budget = new RetryBudget();
        assertEquals(RetryBudget.MIN_CONCURRENT_RETRIES, budget.allowed(50, 10), "a quiet balancer still retries");
        for (int i = 0; i < 100; i++) {
            budget.requestStarted();
        }
        assertEquals(50 + RetryBudget.MIN_CONCURRENT_RETRIES, budget.allowed(50, 10),
                "the percentage when it is larger than one backend's share");
        assertEquals(50 + RetryBudget.MIN_CONCURRENT_RETRIES, budget.allowed(50, 1),
                "a single backend gives no share: a retry goes back to it");
        assertEquals(0, budget.allowed(0, 10), "0% means no retries");
        assertFalse(budget.tryStartRetry(0, 10));
    }

    @Test
    void concurrentRetryStartsNeverExceedTheBudget() throws Exception {
        RetryBudget budget = new RetryBudget();
        for (int i = 0; i < 40; i++) {
            budget.requestStarted();
        }
        int allowed = budget.allowed(20, 4);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger granted = new AtomicInteger();
        try {
            for (int t = 0; t < 4; t++) {
                pool.execute(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 100; i++) {
                        if (budget.tryStartRetry(20, 4)) {
                            granted.incrementAndGet();
                        }
                    }
                });
            }
            go.countDown();
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        assertEquals(allowed, granted.get());
        assertEquals(allowed, budget.activeRetries());
    }
}
