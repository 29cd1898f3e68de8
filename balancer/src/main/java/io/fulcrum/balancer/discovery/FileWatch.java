package io.fulcrum.balancer.discovery;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;

/**
 * Calls back when a file may have changed: a daemon thread watches the file's directory, which
 * also sees editors that write a new file and rename it over the old one and Kubernetes ConfigMap
 * symlink swaps ({@code ..data}), as the config file's own watch does. The callback only schedules
 * work; it must not block.
 */
final class FileWatch implements AutoCloseable {
    private final WatchService service;

    FileWatch(Path file, Runnable onChange) throws IOException {
        requireNonNull(onChange, "onChange");
        Path absolute = file.toAbsolutePath();
        service = absolute.getFileSystem().newWatchService();
        absolute.getParent().register(service, StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        Path name = absolute.getFileName();
        Thread t = new Thread(() -> loop(name, onChange), "fulcrum-discovery-file");
        t.setDaemon(true);
        t.start();
    }

    private void loop(Path name, Runnable onChange) {
        try {
            while (true) {
                WatchKey key = service.take();
                boolean relevant = false;
                for (WatchEvent<?> event : key.pollEvents()) {
                    Object context = event.context();
                    if (event.kind() == StandardWatchEventKinds.OVERFLOW || name.equals(context)
                            || (context instanceof Path p && p.toString().startsWith(".."))) {
                        relevant = true;
                    }
                }
                key.reset();
                if (relevant) {
                    onChange.run();
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed: stop watching
        }
    }

    @Override
    public void close() throws IOException {
        service.close();
    }
}
