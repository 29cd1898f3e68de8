package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The outcome of one create sent many times at once with the same {@code Idempotency-Key}: how
 * many answers said 201 Created and which post ids they all named. Every answer must be a 201 or
 * a 200 replay. Immutable.
 *
 * @param created the number of 201 answers
 * @param ids the distinct post ids of all answers
 */
public record CreateRace(int created, Set<Long> ids) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Copies the ids. */
    public CreateRace {
        ids = Set.copyOf(ids);
    }

    /** Waits up to 30 seconds for each answer of the race and tallies them. */
    public static CreateRace settle(List<CompletableFuture<HttpResponse<String>>> answers) throws Exception {
        Set<Long> ids = new HashSet<>();
        int created = 0;
        for (CompletableFuture<HttpResponse<String>> f : answers) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertTrue(r.statusCode() == 201 || r.statusCode() == 200, r.body());
            created += r.statusCode() == 201 ? 1 : 0;
            ids.add(JSON.readTree(r.body()).get("id").asLong());
        }
        return new CreateRace(created, ids);
    }
}
