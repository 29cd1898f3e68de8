package io.fulcrum.balancer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The compact constructors guard invariants for configs built in code, not only loaded ones. */
class ConfigRecordsTest {
    private static final Duration S = Duration.ofSeconds(1);

    static Stream<Arguments> brokenInvariants() {
        BackendConfig a = new BackendConfig("a", "h", 1, "r", 1, 1);
        return Stream.of(
                Arguments.of("duplicate backend ids", (Executable) () -> BalancerConfig.builder()
                        .listen(new ListenConfig("h", 0)).admin(new ListenConfig("h", 0)).region("r")
                        .routing(new RoutingConfig(RoutingConfig.Policy.RANDOM, null, new SpilloverConfig(1, List.of()), S))
                        .backends(List.of(a, a)).health(new HealthConfig("/", S, S, 1, 1))
                        .outlier(new OutlierConfig(1, S, S, 0)).retry(new RetryConfig(0, 0, 0, null))
                        .timeouts(new TimeoutsConfig(S, S, S, S, S)).limits(new LimitsConfig(1, 1, 0, 1))
                        .accessLog("off").build()),
                Arguments.of("health path without slash", (Executable) () -> new HealthConfig("h", S, S, 1, 1)),
                Arguments.of("zero health interval", (Executable) () -> new HealthConfig("/", Duration.ZERO, S, 1, 1)),
                Arguments.of("zero rise", (Executable) () -> new HealthConfig("/", S, S, 0, 1)),
                Arguments.of("max ejection below base", (Executable) () -> new OutlierConfig(1, S, Duration.ZERO, 0)),
                Arguments.of("ejected percent over 100", (Executable) () -> new OutlierConfig(1, S, S, 101)),
                Arguments.of("negative budget", (Executable) () -> new RetryConfig(0, -1, 0, null)),
                Arguments.of("zero per-try timeout", (Executable) () -> new RetryConfig(0, 0, 0, Duration.ZERO)),
                Arguments.of("zero connect timeout", (Executable) () -> new TimeoutsConfig(Duration.ZERO, S, S, S, S)),
                Arguments.of("negative drain", (Executable) () -> new TimeoutsConfig(S, S, S, S, S.negated())),
                Arguments.of("negative body limit", (Executable) () -> new LimitsConfig(1, 1, -1, 1)),
                Arguments.of("zero connections", (Executable) () -> new LimitsConfig(1, 1, 0, 0)),
                Arguments.of("negative slow start", (Executable) () -> new RoutingConfig(
                        RoutingConfig.Policy.RANDOM, null, new SpilloverConfig(1, List.of()), S.negated())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenInvariants")
    void rejectsBrokenInvariants(String name, Executable construct) {
        assertThrows(IllegalArgumentException.class, construct);
    }

    @Test
    void allowsSmallLimitsBuiltInCode() {
        // Tests of 431/414 build tiny limits directly; only the loader enforces the YAML ranges.
        assertEquals(64, new LimitsConfig(64, 32, 0, 1).maxHeaderBytes());
    }

    @Test
    void copiesSpilloverOrder() {
        List<String> order = new java.util.ArrayList<>(List.of("a"));
        SpilloverConfig c = new SpilloverConfig(0.5, order);
        order.add("b");
        assertEquals(List.of("a"), c.order());
    }

    @Test
    void theBuilderNamesAMissingRequiredValue() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> BalancerConfig.builder()
                .listen(new ListenConfig("h", 0)).admin(new ListenConfig("h", 0)).build());
        assertEquals("region", e.getMessage());
        assertEquals("accessLog", assertThrows(NullPointerException.class,
                () -> BalancerConfig.builder().accessLog(null)).getMessage());
    }
}
