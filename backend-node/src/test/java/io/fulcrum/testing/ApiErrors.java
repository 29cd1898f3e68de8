package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;

/**
 * Assertions on the post server's JSON error answers ({@code {"error", "detail", "field"}}), for the
 * node's API tests.
 *
 * <p>Stateless and thread-safe.
 */
public final class ApiErrors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ApiErrors() {
    }

    /**
     * Asserts that {@code r} is a JSON error with {@code status} and the code {@code error}, with a
     * detail, and that it names {@code field} (or, where {@code field} is null, no field).
     *
     * @return the error's body, for checks on its detail
     */
    public static JsonNode assertError(HttpResponse<String> r, int status, String error, String field) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertEquals(error, body.get("error").asText(), r.body());
        assertNotNull(body.get("detail"), r.body());
        if (field == null) {
            assertNull(body.get("field"), r.body());
        } else {
            assertEquals(field, body.get("field").asText(), r.body());
        }
        return body;
    }
}
