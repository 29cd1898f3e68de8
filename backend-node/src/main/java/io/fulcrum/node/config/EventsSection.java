package io.fulcrum.node.config;

import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Section;
import java.time.Duration;
import java.util.List;

/**
 * Reads the {@code events} section: the live timeline feed. Immutable.
 *
 * @param pollInterval how often the watcher reads new posts
 * @param heartbeat the comment interval on an idle stream
 * @param maxStreams open streams before 503
 */
record EventsSection(Duration pollInterval, Duration heartbeat, int maxStreams) {
    /** The top-level {@code events}. */
    static EventsSection read(YamlMapper m, Section top) {
        SectionValues v = m.read(top, "events", NodeSchema.EVENTS);
        return new EventsSection(v.duration("poll-interval"), v.duration("heartbeat"), v.integer("max-streams"));
    }

    /** The feed's settings, or null with the record's problem added to {@code problems}. */
    EventsConfig config(List<String> problems) {
        return NodeConfigLoader.create(problems, "events.", () -> new EventsConfig(pollInterval, heartbeat, maxStreams));
    }
}
