package io.fulcrum.balancer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The file that names the balancer process serving now ({@code --pid-file}): written once the
 * process serves, read by the next process that takes over from it ({@code --replace}), and
 * removed at exit only while it still names this process. Stateless.
 */
final class PidFile {
    private PidFile() {
    }

    /** The live process {@code file} names, if it names one other than this. */
    static Optional<ProcessHandle> running(Path file) {
        try {
            long pid = Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
            return pid == ProcessHandle.current().pid() ? Optional.empty()
                    : ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Names this process in {@code file}, replaced whole (a reader never sees half a number). */
    static void write(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes {@code file} if it still names this process (the process that took over keeps its own). */
    static void removeIfOwn(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (text.equals(Long.toString(ProcessHandle.current().pid()))) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // Gone already, or unreadable: nothing of ours to remove.
        }
    }
}
