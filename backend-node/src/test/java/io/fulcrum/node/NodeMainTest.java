package io.fulcrum.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class NodeMainTest {
    @TempDir
    Path dir;

    @Test
    void helpAndVersionExitZero() {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new NodeMain()).setOut(new PrintWriter(out));
        assertEquals(0, cli.execute("--help"));
        assertTrue(out.toString().contains("--config"), out.toString());
        assertEquals(0, new CommandLine(new NodeMain()).setOut(new PrintWriter(new StringWriter())).execute("--version"));
    }

    @Test
    void missingConfigOptionIsAUsageError() {
        CommandLine cli = new CommandLine(new NodeMain()).setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cli.execute());
    }

    @Test
    void badConfigFileExitsTwo() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "id: a\nregion: r\nlisten: { port: 1 }\nstore: { kind: oracle }\n");
        assertEquals(2, new CommandLine(new NodeMain()).execute("--config", file.toString()));
    }

    @Test
    void unreachableStoreExitsOne() throws Exception {
        Path file = dir.resolve("pg.yaml");
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        Files.writeString(file, "id: a\nregion: r\nlisten: { host: 127.0.0.1, port: 0 }\n"
                + "store: { kind: postgres, url: 'jdbc:postgresql://127.0.0.1:1/none', connection-timeout: 500ms }\n");
        assertEquals(1, new CommandLine(new NodeMain()).execute("--config", file.toString()));
    }
}
