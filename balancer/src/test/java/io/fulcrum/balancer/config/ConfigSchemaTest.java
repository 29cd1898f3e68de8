package io.fulcrum.balancer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.config.JsonSchemas;
import io.fulcrum.node.config.NodeConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * config/balancer.schema.json is what BalancerSchema generates, and the schema, the reference file,
 * the example configs and the documentation's examples agree on every key.
 */
class ConfigSchemaTest {
    static final String SCHEMA_ID = "https://fulcrum.io/schemas/balancer.schema.json";
    private static final String REGENERATE =
            "mvn -B -o -q -pl balancer -am test -Dtest=ConfigSchemaTest -Dsurefire.failIfNoSpecifiedTests=false"
                    + " -D" + JsonSchemas.WRITE_PROPERTY + "=true";
    private static final Map<String, Object> SCHEMA = JsonSchemas.document(BalancerSchema.FILE, SCHEMA_ID);
    private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);

    private static Path repoFile(String name) {
        Path p = Path.of(name);
        return Files.exists(p) ? p : Path.of("..", name);
    }

    private static Object yaml(String text) {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    }

    private static List<String> undeclared(Map<String, Object> schema, Object yaml) {
        List<String> out = new ArrayList<>();
        JsonSchemas.keys(schema, yaml).forEach((k, declared) -> {
            if (!declared) {
                out.add(k);
            }
        });
        return out;
    }

    @Test
    void theCommittedSchemaIsWhatTheFieldTablesGenerate() throws IOException {
        assertNull(JsonSchemas.check(BalancerSchema.FILE, SCHEMA_ID, repoFile("config/balancer.schema.json"),
                REGENERATE));
    }

    @Test
    void theReferenceFileNamesExactlyTheKeysOfTheSchema() throws Exception {
        String text = Files.readString(repoFile("config/balancer-reference.yaml"));
        assertTrue(text.startsWith("# yaml-language-server: $schema=balancer.schema.json\n"), "editors find the schema");
        ConfigLoader.parse(text, "balancer-reference.yaml");
        // The tls example is commented out (its files must exist); its keys count all the same.
        int tls = text.indexOf("\n# tls:");
        StringBuilder uncommented = new StringBuilder(text.substring(0, tls + 1));
        for (String line : text.substring(tls + 1).split("\n")) {
            uncommented.append(line.startsWith("# ") ? line.substring(2) : "").append('\n');
        }
        Map<String, Boolean> keys = JsonSchemas.keys(SCHEMA, yaml(uncommented.toString()));
        assertEquals(List.of(), undeclared(SCHEMA, yaml(uncommented.toString())), "keys the schema lacks");
        // Sections declared by the same table are shown once: a pool's sections and backends are the
        // top-level ones, response-headers edits like request-headers. Commented-out keys count.
        List<String> missing = new ArrayList<>();
        for (String declared : JsonSchemas.declared(SCHEMA)) {
            String same = declared.replace("routes[].response-headers.", "routes[].request-headers.");
            if (declared.startsWith("pools.*.") && !declared.equals("pools.*.backends")) {
                same = declared.substring("pools.*.".length());
            }
            String key = declared.substring(declared.lastIndexOf('.') + 1);
            if (!keys.containsKey(declared) && !keys.containsKey(same)
                    && !Pattern.compile("#\\s+" + Pattern.quote(key) + ":").matcher(text).find()) {
                missing.add(declared);
            }
        }
        assertEquals(List.of(), missing, "keys of the schema that config/balancer-reference.yaml does not show");
    }

    @Test
    void theExampleConfigsLoadAndPointEditorsAtTheSchema() throws Exception {
        for (String name : List.of("config/balancer.yaml", "config/balancer-two-services.yaml")) {
            String text = Files.readString(repoFile(name));
            assertTrue(text.startsWith("# yaml-language-server: $schema=balancer.schema.json\n"), name);
            ConfigLoader.parse(text, name);
            assertEquals(List.of(), undeclared(SCHEMA, yaml(text)), name);
        }
    }

    @Test
    void theDocumentationsExamplesUseOnlyDeclaredKeysAndWholeOnesLoad() throws Exception {
        Map<String, Object> nodeSchema = JsonSchemas.document(NodeConfigLoader.SCHEMA, "node");
        int blocks = 0;
        for (String doc : List.of("docs/operations.md", "README.md")) {
            Matcher m = YAML_BLOCK.matcher(Files.readString(repoFile(doc)));
            while (m.find()) {
                blocks++;
                Object example = yaml(m.group(1));
                assertTrue(example instanceof Map<?, ?>, doc + ": " + m.group(1));
                Map<?, ?> top = (Map<?, ?>) example;
                boolean node = top.containsKey("store");
                assertEquals(List.of(), undeclared(node ? nodeSchema : SCHEMA, example), doc + ": " + m.group(1));
                if (!node && (top.containsKey("backends") || top.containsKey("pools")) && !top.containsKey("tls")
                        && !top.containsKey("backend-tls")) {
                    ConfigLoader.parse(m.group(1), doc);
                }
            }
        }
        assertTrue(blocks >= 9, "found the examples: " + blocks);
    }

    @Test
    void undeclaredKeysAreFound() {
        assertEquals(List.of("health.intervall", "pools.*.backends[].colour"), undeclared(SCHEMA,
                yaml("health: { intervall: 2s }\npools: { a: { backends: [{ id: a, colour: red }] } }\n")));
        assertFalse(new TreeSet<>(JsonSchemas.declared(SCHEMA)).isEmpty());
    }
}
