package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TraceContextTest {
    @Test
    void aValidTraceparentGivesItsTraceId() {
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736",
                TraceContext.traceId("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        // A later version may append fields after a dash (W3C trace-context section 3.2.4).
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736",
                TraceContext.traceId("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"})
    void anInvalidTraceparentGivesNone(String value) {
        assertNull(TraceContext.traceId(value));
    }

    @Test
    void aStartedTraceIsValidAndNew() {
        String a = TraceContext.start();
        String b = TraceContext.start();
        assertEquals(a.substring(3, 35), TraceContext.traceId(a));
        assertEquals("00", a.substring(0, 2));
        assertEquals("-00", a.substring(52));
        assertNotEquals(a, b);
    }
}
