package io.fulcrum.node;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT as a request to stop, instead of the JVM's own handling of them. The JVM's
 * handling runs the shutdown hooks and then exits with 128 + the signal (143 for SIGTERM) whatever
 * the program returns; taken over here, the node stops itself and exits 0, as a program stopped on
 * request does (systemd, init scripts and {@code run-local.sh} read a non-zero status as a failure).
 *
 * <p>Uses {@code sun.misc.Signal} through reflection: it is the only JDK hook for signals, it may be
 * absent or refuse a signal ({@code -Xrs}), and a direct reference draws an unsuppressible compiler
 * warning. A signal this process was started with ignored (SIGINT of a background job) stays
 * ignored: the JVM keeps it so, and so do we. Where a signal cannot be taken over, the JVM's own
 * handling stays: the shutdown hook still stops the node, with status 143.
 *
 * <p>Thread-safe: {@code onStop} runs on the JVM's signal dispatch thread and must return quickly.
 */
final class StopSignals {
    private static final Logger log = LoggerFactory.getLogger(StopSignals.class);

    private StopSignals() {
    }

    /**
     * Makes SIGTERM and SIGINT call {@code onStop}.
     *
     * @return the signals taken over ({@code TERM}, {@code INT}), for the log
     */
    static List<String> install(Runnable onStop) {
        List<String> installed = new ArrayList<>(2);
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object ignored = handlerClass.getField("SIG_IGN").get(null);
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                    (self, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            onStop.run();
                            yield null;
                        }
                        case "equals" -> self == args[0];
                        case "hashCode" -> System.identityHashCode(self);
                        default -> "node stop signal handler";
                    });
            for (String name : new String[] {"TERM", "INT"}) {
                Object signal = signalClass.getConstructor(String.class).newInstance(name);
                try {
                    Object previous = handle.invoke(null, signal, handler);
                    if (previous == ignored) {
                        // Started with it ignored: put that back rather than react to it.
                        handle.invoke(null, signal, ignored);
                    } else {
                        installed.add(name);
                    }
                } catch (ReflectiveOperationException | RuntimeException e) {
                    log.debug("SIG{} stays with the JVM: {}", name, e.toString());
                }
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.debug("stop signals stay with the JVM: {}", e.toString());
        }
        return installed;
    }
}
