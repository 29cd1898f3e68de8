package io.fulcrum.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

/** Each conversion of one YAML value: what it gives, and the reason it refuses, word for word. */
class ScalarsTest {
    private static final List<String> POLICIES = List.of("least-busy", "round-robin", "random");

    /** The value of {@code v: <yaml>}, converted by the conversion named {@code kind}. */
    private static Scalars.Converted<?> convert(String kind, String yaml) throws ConfigProblems {
        Node value = ((MappingNode) YamlComposer.compose("v: " + yaml, "test").root()).getValue().get(0).getValueNode();
        Function<Node, Scalars.Converted<?>> conversion = switch (kind) {
            case "text" -> v -> Scalars.text(v, "a string");
            case "name" -> v -> Scalars.name(v, "region name");
            case "policy" -> v -> Scalars.oneOf(v, POLICIES, "policy");
            case "bool" -> Scalars::bool;
            case "port" -> v -> Scalars.integer(v, 0, 65535);
            case "count" -> v -> Scalars.integer(v, 1, Integer.MAX_VALUE);
            case "number" -> Scalars::number;
            case "timeout" -> v -> Scalars.duration(v, true);
            default -> throw new IllegalArgumentException(kind);
        };
        return conversion.apply(value);
    }

    /** A value converts ({@code value}: its string form) or is refused with the reason {@code problem}, word for word. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "text    | no           | no | ",
        "text    | '8080'       | 8080 | ",
        "name    | us-east      | us-east | ",
        "policy  | random       | random | ",
        "bool    | true         | true | ",
        "port    | 8080         | 8080 | ",
        "count   | 2147483647   | 2147483647 | ",
        "number  | 0.8          | 0.8 | ",
        "number  | 1            | 1.0 | ",
        "timeout | 250ms        | PT0.25S | ",
        "text    | ''           | | must not be empty",
        "text    | [a]          | | expected a string, got a list",
        "text    | ~            | | expected a string, got nothing (null)",
        "name    | 'us east'    | | not a valid region name: \"us east\" (expected: letters, digits, '.', '_' or '-')",
        "policy  | randon       | | unknown policy \"randon\", did you mean \"random\"? (expected: least-busy, round-robin, random)",
        "policy  | polciy       | | unknown policy \"polciy\" (expected: least-busy, round-robin, random)",
        "policy  | {a: 1}       | | expected least-busy, round-robin or random, got a mapping",
        "bool    | yes          | | expected true or false, got yes",
        "bool    | 'true'       | | expected true or false, got \"true\"",
        "port    | 70000        | | out of range: 70000 (expected: 0-65535)",
        "port    | 010          | | expected an integer, got 010",
        "port    | '80'         | | expected an integer, got \"80\"",
        "port    | 99999999999999999999 | | out of range: 99999999999999999999 (expected: 0-65535)",
        "count   | 0            | | out of range: 0 (expected: >= 1)",
        "number  | lots         | | expected a number, got \"lots\"",
        "timeout | soon         | | \"soon\" is not a duration like 250ms, 2s, 1m",
        "timeout | 0s           | | out of range: 0s (expected: > 0)",
        "timeout | 5            | | \"5\" is not a duration like 250ms, 2s, 1m",
        "timeout | [1s]         | | expected a duration like 250ms, 2s, 1m, got a list",
    })
    void convertsAValueOrSaysWhyNot(String kind, String yaml, String value, String problem) throws ConfigProblems {
        Scalars.Converted<?> c = convert(kind, yaml);
        assertEquals(problem, c.problem());
        assertEquals(value, c.value() == null ? null : String.valueOf(c.value()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "polciy      | , did you mean \"policy\"?",
        "maxInFlight | , did you mean \"max-in-flight\"?",
        "colour      | ''",
    })
    void suggestsTheKnownWordClosestToAMisspeltOne(String word, String hint) {
        assertEquals(hint, DidYouMean.hint(word, List.of("policy", "max-in-flight", "region")));
    }

    @ParameterizedTest
    @CsvSource({"policy, policy, 0", "polciy, policy, 1", "kitten, sitting, 3", "'', abc, 3"})
    void editDistanceCountsATranspositionAsOneEdit(String a, String b, int distance) {
        assertEquals(distance, DidYouMean.editDistance(a, b));
    }

    @ParameterizedTest
    @CsvSource({"250ms, PT0.25S", "2s, PT2S"})
    void durationsAreParsedByDurations(String text, Duration expected) {
        assertEquals(expected, Durations.parse(text).orElseThrow());
    }
}
