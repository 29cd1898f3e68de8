package io.fulcrum.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.config.JsonSchemas;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** config/node.schema.json is what the node's field tables generate, and the shipped node files agree with it. */
class NodeSchemaTest {
    private static final String ID = "https://fulcrum.io/schemas/node.schema.json";
    private static final Map<String, Object> SCHEMA = JsonSchemas.document(NodeConfigLoader.SCHEMA, ID);

    private static Path repoFile(String name) {
        Path p = Path.of(name);
        return Files.exists(p) ? p : Path.of("..", name);
    }

    @Test
    void theCommittedSchemaIsWhatTheFieldTablesGenerate() throws Exception {
        assertNull(JsonSchemas.check(NodeConfigLoader.SCHEMA, ID, repoFile("config/node.schema.json"),
                "mvn -B -o -q -pl backend-node -am test -Dtest=NodeSchemaTest -Dsurefire.failIfNoSpecifiedTests=false"
                        + " -D" + JsonSchemas.WRITE_PROPERTY + "=true"));
    }

    @Test
    void theShippedNodeFilesUseOnlyDeclaredKeysAndPointEditorsAtTheSchema() throws Exception {
        for (String name : List.of("config/node-us-1.yaml", "config/node-us-2.yaml", "config/node-eu-1.yaml")) {
            String text = Files.readString(repoFile(name));
            assertTrue(text.startsWith("# yaml-language-server: $schema=node.schema.json\n"), name);
            new NodeConfigLoader(Map.of()).parse(text, name);
            List<String> undeclared = new ArrayList<>();
            JsonSchemas.keys(SCHEMA, new Yaml(new SafeConstructor(new LoaderOptions())).load(text))
                    .forEach((k, declared) -> {
                        if (!declared) {
                            undeclared.add(k);
                        }
                    });
            assertEquals(List.of(), undeclared, name);
        }
    }

    @Test
    void theSchemaDeclaresEveryKeyTheLoaderReads() {
        List<String> declared = JsonSchemas.declared(SCHEMA);
        assertTrue(declared.containsAll(List.of("id", "region", "listen.port", "admin.host", "store.kind",
                "store.primary.url", "store.replica.max-lag", "limits.default-timeline-limit", "events.max-streams")),
                declared.toString());
        assertEquals(List.of("id", "region"), SCHEMA.get("required"));
    }
}
