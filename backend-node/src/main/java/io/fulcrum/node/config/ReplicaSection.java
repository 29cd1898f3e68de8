package io.fulcrum.node.config;

import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code store.replica}, the streaming replica that serves reads, with
 * {@code FULCRUM_DB_REPLICA_URL} overriding its URL and the primary's user and password as its
 * defaults. Immutable.
 *
 * @param given whether the file or the environment names a replica
 * @param url the replica's JDBC URL (null: none given)
 * @param user the database user
 * @param password the database password
 * @param maxLag replay lag above which reads go to the primary
 * @param catchUpWait how long a read after the client's own write waits for the replica
 * @param checkInterval how often the lag is measured
 */
record ReplicaSection(boolean given, String url, String user, String password, Duration maxLag, Duration catchUpWait,
        Duration checkInterval) {
    /** The replica of the {@code store} section {@code store}; {@code user} and {@code password} are the primary's. */
    static ReplicaSection read(YamlMapper m, SectionValues store, Map<String, String> env, String user, String password) {
        Entry entry = store.section().get("replica");
        boolean given = (entry != null && !YamlMapper.isNull(entry.value()))
                || env.containsKey(NodeConfigLoader.ENV_DB_REPLICA_URL);
        SectionValues v = m.read(store.section(), "replica", NodeSchema.REPLICA);
        String url = env.getOrDefault(NodeConfigLoader.ENV_DB_REPLICA_URL, v.string("url"));
        return new ReplicaSection(given, url, v.string("user", user), v.string("password", password),
                v.duration("max-lag"), v.duration("read-your-writes-wait"), v.duration("check-interval"));
    }

    /** The replica (null when none is given), or null with the record's problem added to {@code problems}. */
    ReplicaConfig config(List<String> problems) {
        if (!given) {
            return null;
        }
        return NodeConfigLoader.create(problems, "store.replica.",
                () -> new ReplicaConfig(url, user, password, maxLag, catchUpWait, checkInterval));
    }
}
