import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The three balancers, each configured for its least-connections-like policy over the same
 * backends: Fulcrum {@code least-busy}, HAProxy {@code balance leastconn}, nginx {@code least_conn}.
 * Health checks every 500 ms (fall 2, rise 2) where the balancer has them, 10 s slow start where it
 * has one; with retries, each retries connect failures and a 503 on another backend, at most twice.
 */
final class Proxies {
    static final List<String> NAMES = List.of("fulcrum", "haproxy", "nginx");

    private final Path dir;
    private final String jar;
    private final String jvmOpts;
    private final List<Process> running = new ArrayList<>();

    Proxies(Path dir, String jar, String jvmOpts) {
        this.dir = dir;
        this.jar = jar;
        this.jvmOpts = jvmOpts;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts {@code name} in front of {@code backendPorts}; returns its traffic port once it answers. */
    int start(String name, int[] backendPorts, boolean retries, String tag) throws Exception {
        int port = freePort();
        Path work = Files.createDirectories(dir.resolve(name + "-" + tag));
        ProcessBuilder pb;
        switch (name) {
            case "fulcrum" -> {
                Path cfg = work.resolve("fulcrum.yaml");
                Files.writeString(cfg, fulcrum(port, freePort(), backendPorts, retries)
                        + (System.getenv("FULCRUM_ACCESS_LOG") != null
                                ? "access-log: " + work.resolve("access.log") + "\n" : "access-log: off\n"));
                List<String> cmd = new ArrayList<>();
                cmd.add("java");
                cmd.addAll(List.of(jvmOpts.trim().split("\\s+")));
                cmd.addAll(List.of("-jar", jar, "--config", cfg.toString()));
                pb = new ProcessBuilder(cmd);
            }
            case "haproxy" -> {
                Path cfg = work.resolve("haproxy.cfg");
                Files.writeString(cfg, haproxy(port, backendPorts, retries));
                pb = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString());
            }
            case "nginx" -> {
                Files.createDirectories(work.resolve("tmp"));
                Path cfg = work.resolve("nginx.conf");
                Files.writeString(cfg, nginx(port, backendPorts, retries, work));
                pb = new ProcessBuilder("nginx", "-p", work.toString(), "-c", cfg.toString());
            }
            default -> throw new IllegalArgumentException("proxy: " + name);
        }
        Process p = launch(name, pb, work, port);
        running.add(p);
        return port;
    }

    /**
     * Starts {@code pb} with its output in {@code work}/out.log and waits until {@code port} takes
     * connections; {@code name} names it in the errors.
     */
    static Process launch(String name, ProcessBuilder pb, Path work, int port) throws Exception {
        pb.redirectErrorStream(true).redirectOutput(work.resolve("out.log").toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited: see " + work.resolve("out.log"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return p;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException(name + " did not listen within 60 s");
    }

    void stopAll() {
        for (Process p : running) {
            p.destroy();
        }
        for (Process p : running) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        running.clear();
    }

    private static String fulcrum(int port, int admin, int[] backends, boolean retries) {
        StringBuilder b = new StringBuilder();
        b.append("listen: { host: 127.0.0.1, port: ").append(port).append(" }\n");
        b.append("admin: { host: 127.0.0.1, port: ").append(admin).append(" }\n");
        b.append("routing: { policy: least-busy }\n");
        b.append("health: { path: /health, interval: 500ms, timeout: 250ms, rise: 2, fall: 2 }\n");
        b.append("retry: { attempts: ").append(retries ? 2 : 0).append(" }\n");
        b.append("backends:\n");
        for (int i = 0; i < backends.length; i++) {
            b.append("  - { id: b").append(i).append(", url: \"http://127.0.0.1:").append(backends[i]).append("\" }\n");
        }
        return b.toString();
    }

    private static String haproxy(int port, int[] backends, boolean retries) {
        StringBuilder b = new StringBuilder();
        b.append("global\n    nbthread 1\n    maxconn 8192\n\n");
        b.append("defaults\n    mode http\n    option http-keep-alive\n    http-reuse always\n");
        b.append("    timeout connect 1s\n    timeout client 60s\n    timeout server 30s\n");
        b.append("    timeout http-keep-alive 60s\n");
        if (retries) {
            b.append("    retries 2\n    option redispatch 1\n    retry-on conn-failure empty-response 503\n");
        } else {
            b.append("    retries 2\n    option redispatch 1\n    retry-on conn-failure\n");
        }
        b.append("\nfrontend in\n    bind 127.0.0.1:").append(port).append("\n    default_backend pool\n\n");
        b.append("backend pool\n    balance leastconn\n    option httpchk GET /health\n");
        b.append("    default-server check inter 500 fall 2 rise 2 slowstart 10s\n");
        for (int i = 0; i < backends.length; i++) {
            b.append("    server b").append(i).append(" 127.0.0.1:").append(backends[i]).append('\n');
        }
        return b.toString();
    }

    private static String nginx(int port, int[] backends, boolean retries, Path work) {
        StringBuilder b = nginxHead(work);
        b.append("    keepalive_timeout 65s;\n    keepalive_requests 1000000;\n");
        b.append("    upstream pool {\n        least_conn;\n        zone pool 64k;\n");
        for (int backend : backends) {
            b.append("        server 127.0.0.1:").append(backend).append(";\n");
        }
        b.append("        keepalive 256;\n        keepalive_requests 1000000;\n    }\n");
        b.append("    server {\n        listen 127.0.0.1:").append(port).append(";\n        location / {\n");
        b.append("            proxy_pass http://pool;\n            proxy_http_version 1.1;\n");
        b.append("            proxy_set_header Connection \"\";\n");
        b.append("            proxy_next_upstream ").append(retries ? "error timeout http_503" : "error timeout")
                .append(";\n            proxy_next_upstream_tries 3;\n");
        b.append("        }\n    }\n}\n");
        return b.toString();
    }

    /**
     * An nginx config up to inside its {@code http} block: one worker in the foreground, its pid,
     * error log and temporary files in {@code work}, no access log.
     */
    static StringBuilder nginxHead(Path work) {
        StringBuilder b = new StringBuilder();
        b.append("daemon off;\nworker_processes 1;\npid ").append(work.resolve("nginx.pid")).append(";\n");
        b.append("error_log ").append(work.resolve("error.log")).append(" error;\n");
        b.append("events { worker_connections 8192; }\n");
        b.append("http {\n    access_log off;\n");
        for (String t : List.of("client_body", "proxy", "fastcgi", "uwsgi", "scgi")) {
            b.append("    ").append(t).append("_temp_path ").append(work.resolve("tmp")).append(";\n");
        }
        return b;
    }
}
