/**
 * The shared test fixtures of the balancer: what an end-to-end or fault test runs against.
 *
 * <ul>
 *   <li>{@link io.fulcrum.testing.ScriptedBackend}: the one scriptable HTTP backend (answers with its
 *       name or an echo, generated streams, delays, holds; killed, restarted, flapping, hung,
 *       failing or resetting connections), counting what it received;</li>
 *   <li>{@link io.fulcrum.testing.RawBackend}: fixed bytes, however wrong, for protocol
 *       violations;</li>
 *   <li>{@link io.fulcrum.testing.NodeProcess}: the real post server in a child JVM, to SIGKILL,
 *       SIGSTOP and SIGCONT (from the post server's test jar, shared with its own tests);</li>
 *   <li>{@link io.fulcrum.testing.RawHttpClient}: one keep-alive connection speaking HTTP/1.1 by
 *       hand, which tells a response cut inside its body from a complete one;</li>
 *   <li>{@link io.fulcrum.testing.HttpLoad}: bounded closed-loop load over such connections,
 *       recording every request's outcome and the backend that answered;</li>
 *   <li>{@link io.fulcrum.testing.BalancerYaml}: the balancer's YAML file, built key by key, loaded
 *       and validated like an operator's;</li>
 *   <li>{@link io.fulcrum.testing.Fixtures}: a JUnit extension that creates the above for one test
 *       (the balancer on port 0) and tears them down after it, child processes included;</li>
 *   <li>{@link io.fulcrum.testing.LeakGuard}: fails a test class that leaked a Netty buffer (from the post server's test
 *       jar, shared with its own tests).</li>
 * </ul>
 */
package io.fulcrum.testing;
