package io.fulcrum.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fulcrum.config.Field.Reload;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FieldTableTest {
    private static final FieldTable INNER = FieldTable.builder("inner")
            .reload(Reload.RESTART)
            .integer("port", 80, 0, 65535, "a port")
            .build();
    private static final FieldTable MIXED = FieldTable.builder("mixed")
            .reload(Reload.RESTART)
            .duration("connect", Duration.ofSeconds(1), true, "connect")
            .reload(Reload.LIVE)
            .duration("response", Duration.ofSeconds(30), true, "response")
            .build();
    private static final FieldTable FILE = FieldTable.builder("file")
            .requiredName("id", "the id")
            .section("listen", INNER, "listener")
            .section("timeouts", MIXED, "timeouts")
            .bool("enabled", true, "on or off")
            .oneOf("kind", "a", List.of("a", "b"), "kind")
            .build();

    private static List<String> problems(String yaml) throws ConfigProblems {
        YamlMapper m = new YamlMapper(YamlMapper.compose(yaml, "t.yaml").tagged());
        YamlMapper.Section top = m.top(YamlMapper.compose(yaml, "t.yaml").root(), FILE);
        SectionValues v = m.read(top, FILE);
        v.name("id");
        v.bool("enabled");
        v.oneOf("kind");
        m.read(top, "listen", INNER).integer("port");
        SectionValues t = m.read(top, "timeouts", MIXED);
        t.duration("connect");
        t.duration("response");
        return m.sortedProblems();
    }

    @Test
    void aTableChecksKeysTypesRangesAndRequiredKeysWithPathsAndLines() throws ConfigProblems {
        assertEquals(List.of(), problems("id: a\nlisten: { port: 0 }\n"));
        assertEquals(List.of("id: required (line 1)",
                "listen.port: out of range: 70000 (expected: 0-65535) (line 2)",
                "listen.prot: unknown key, did you mean \"port\"? (line 3)",
                "timeouts.connect: out of range: 0s (expected: > 0) (line 4)",
                "enabled: expected true or false, got yes (line 5)",
                "kind: unknown value \"c\", did you mean \"a\"? (expected: a, b) (line 6)"),
                problems("listen:\n  port: 70000\n  prot: 1\ntimeouts: { connect: 0s }\nenabled: yes\nkind: c\n"));
    }

    @Test
    void restartUnitsAreWholeSectionsOnlyWhenEveryKeyNeedsARestart() {
        assertEquals(List.of("listen", "timeouts.connect"), FILE.restartUnits());
    }

    @Test
    void aGetterMustMatchTheDeclaredType() throws ConfigProblems {
        YamlMapper m = new YamlMapper(YamlMapper.compose("id: a\n", "t.yaml").tagged());
        SectionValues v = m.read(m.top(YamlMapper.compose("id: a\n", "t.yaml").root(), FILE), FILE);
        assertThrows(IllegalArgumentException.class, () -> v.integer("id"));
    }

    @Test
    void theSchemaDescribesEveryKeyWithItsDefaultAndReloadBehaviour() {
        Map<String, Object> doc = JsonSchemas.document(FILE, "x");
        assertEquals(List.of("id", "listen", "listen.port", "timeouts", "timeouts.connect", "timeouts.response",
                "enabled", "kind"), JsonSchemas.declared(doc));
        @SuppressWarnings("unchecked")
        Map<String, Object> connect = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                ((Map<String, Object>) doc.get("properties")).get("timeouts")).get("properties")).get("connect");
        assertEquals("1s", connect.get("default"));
        assertEquals("restart", connect.get("x-fulcrum-reload"));
        assertEquals("connect (needs a restart)", connect.get("description"));
        assertEquals(false, doc.get("additionalProperties"));
        assertEquals(List.of("id"), doc.get("required"));
    }
}
