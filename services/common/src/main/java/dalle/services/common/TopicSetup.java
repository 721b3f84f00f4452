package dalle.services.common;

import dalle.services.common.kafka.KafkaSecurity;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates the registry's topics on a cluster, idempotently: a missing topic is created with the registry's
 * partitions and configs; an existing one keeps its data and settings, except that too few partitions are
 * raised to the registry's count (never lowered: that would reshuffle keys). Config values that differ from the
 * registry (retention, size limit, cleanup policy, min ISR) are reported, not changed: an operator may have set
 * them on purpose. A second {@link #apply} is a no-op.
 *
 * <p>Topics get {@code min.insync.replicas} = min(2, max(1, replicationFactor - 1)), so with 3 replicas and
 * {@code acks=all} a write survives the loss of one broker.
 */
public final class TopicSetup {

    /** What {@link #apply} did (or, in a dry run, would do) to one topic. */
    public enum Action {
        /** The topic did not exist and was created. */
        CREATED,
        /** The topic had fewer partitions than the registry says; partitions were added. */
        PARTITIONS_ADDED,
        /** The topic was left as it was (see the notes for any difference from the registry). */
        UNCHANGED
    }

    /**
     * One topic's outcome.
     *
     * @param topic the topic's name
     * @param action what was done
     * @param partitionsBefore partitions before, 0 if the topic did not exist
     * @param partitionsAfter partitions after (in a dry run: what they would be)
     * @param notes differences from the registry that were left alone, e.g. "retention.ms is 3600000, the
     *     registry says 604800000 (left as is)"
     */
    public record Outcome(String topic, Action action, int partitionsBefore, int partitionsAfter, List<String> notes) {
        public Outcome {
            notes = List.copyOf(notes);
        }
    }

    /**
     * All outcomes of one {@link #apply}, in registry order.
     *
     * @param outcomes one per topic
     * @param dryRun whether nothing was changed
     * @param replicationFactor the factor new topics got (or would get)
     */
    public record Report(List<Outcome> outcomes, boolean dryRun, short replicationFactor) {
        public Report {
            outcomes = List.copyOf(outcomes);
        }

        /** Whether the cluster already matched: nothing created, no partitions added. */
        public boolean isNoOp() {
            return outcomes.stream().allMatch(o -> o.action() == Action.UNCHANGED);
        }

        /** Outcomes with a note (a difference from the registry left as is). */
        public List<Outcome> withNotes() {
            return outcomes.stream().filter(o -> !o.notes().isEmpty()).toList();
        }

        /** One line per topic (notes indented below it), then a summary line, for people. */
        public List<String> lines() {
            List<String> lines = new ArrayList<>();
            for (Outcome o : outcomes) {
                String what = switch (o.action()) {
                    case CREATED -> (dryRun ? "would create  " : "created       ") + partitions(o.partitionsAfter())
                            + ", replication factor " + replicationFactor;
                    case PARTITIONS_ADDED -> (dryRun ? "would add partitions " : "added partitions ")
                            + o.partitionsBefore() + " -> " + o.partitionsAfter();
                    case UNCHANGED -> "unchanged     " + partitions(o.partitionsAfter());
                };
                lines.add(String.format("%-26s %s", o.topic(), what));
                o.notes().forEach(n -> lines.add("    note: " + n));
            }
            Map<Action, Long> counts = outcomes.stream().collect(Collectors.groupingBy(Outcome::action,
                    () -> new java.util.EnumMap<>(Action.class), Collectors.counting()));
            lines.add(String.format(
                    "%d topics: %d %s, %d with partitions %s, %d unchanged; %d differ from the registry%s",
                    outcomes.size(), counts.getOrDefault(Action.CREATED, 0L), dryRun ? "to create" : "created",
                    counts.getOrDefault(Action.PARTITIONS_ADDED, 0L), dryRun ? "to add" : "added",
                    counts.getOrDefault(Action.UNCHANGED, 0L), withNotes().size(),
                    dryRun ? " (dry run: nothing changed)" : ""));
            return lines;
        }

        private static String partitions(int n) {
            return n + (n == 1 ? " partition" : " partitions");
        }
    }

    private final Admin admin;
    private final short replicationFactor;
    private final Duration timeout;

    /**
     * @param admin a connected admin client (not closed here)
     * @param replicationFactor replicas of each new topic, 1..the cluster's broker count
     * @param timeout how long each admin call may take
     */
    public TopicSetup(Admin admin, short replicationFactor, Duration timeout) {
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor " + replicationFactor + " is below 1");
        }
        this.admin = admin;
        this.replicationFactor = replicationFactor;
        this.timeout = timeout;
    }

    /** Admin client settings for {@code bootstrap} (PLAINTEXT) that fail within about {@code timeout}. */
    public static Map<String, Object> adminConfig(String bootstrap, Duration timeout) {
        return adminConfig(bootstrap, timeout, KafkaSecurity.PLAINTEXT);
    }

    /**
     * Admin client settings for {@code bootstrap} with {@code security}'s properties, that fail within about
     * {@code timeout} when nobody answers.
     */
    public static Map<String, Object> adminConfig(String bootstrap, Duration timeout, KafkaSecurity security) {
        Map<String, Object> c = new HashMap<>(security.properties());
        c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        c.put(AdminClientConfig.CLIENT_ID_CONFIG, "dalle-topic-setup");
        return c;
    }

    /** {@code min.insync.replicas} for a replication factor: 1 for 1-2 replicas, 2 from 3 on. */
    public static int minInSyncReplicas(short replicationFactor) {
        return Math.min(2, Math.max(1, replicationFactor - 1));
    }

    /** Applies the whole registry, {@link Topics#all()}. */
    public Report apply(boolean dryRun) throws IOException {
        return apply(Topics.all(), dryRun);
    }

    /**
     * Creates missing topics and adds missing partitions; reports the rest.
     *
     * @param dryRun only look: describe what would change, change nothing
     * @throws IOException when the cluster does not answer within the timeout or refuses a change
     * @throws IllegalArgumentException when the replication factor exceeds the cluster's brokers
     */
    public Report apply(Collection<? extends TopicSpec<?>> specs, boolean dryRun) throws IOException {
        int brokers = await(admin.describeCluster().nodes(), "describe the cluster").size();
        if (replicationFactor > brokers) {
            throw new IllegalArgumentException("replication factor " + replicationFactor + " exceeds the cluster's "
                    + brokers + " broker(s)");
        }
        Set<String> existing = await(admin.listTopics().names(), "list topics");
        List<String> present = specs.stream().map(TopicSpec::name).filter(existing::contains).toList();
        Map<String, TopicDescription> descriptions = present.isEmpty() ? Map.of()
                : await(admin.describeTopics(present).allTopicNames(), "describe topics");
        Map<String, Config> configs = present.isEmpty() ? Map.of() : describeConfigs(present);

        List<NewTopic> toCreate = new ArrayList<>();
        Map<String, NewPartitions> toGrow = new LinkedHashMap<>();
        List<Outcome> outcomes = new ArrayList<>();
        for (TopicSpec<?> spec : specs) {
            Map<String, String> wanted = wantedConfigs(spec);
            TopicDescription d = descriptions.get(spec.name());
            if (d == null) {
                toCreate.add(new NewTopic(spec.name(), spec.partitions(), replicationFactor).configs(wanted));
                outcomes.add(new Outcome(spec.name(), Action.CREATED, 0, spec.partitions(), List.of()));
                continue;
            }
            List<String> notes = new ArrayList<>();
            int have = d.partitions().size();
            if (have > spec.partitions()) {
                notes.add("has " + have + " partitions, the registry says " + spec.partitions()
                        + " (partitions are never decreased)");
            }
            int replicas = d.partitions().get(0).replicas().size();
            if (replicas != replicationFactor) {
                notes.add("replication factor is " + replicas + ", asked for " + replicationFactor + " (left as is)");
            }
            Config actual = configs.get(spec.name());
            wanted.forEach((key, value) -> {
                ConfigEntry e = actual == null ? null : actual.get(key);
                String is = e == null ? null : e.value();
                if (!value.equals(is)) {
                    notes.add(key + " is " + is + ", the registry says " + value + " (left as is)");
                }
            });
            if (have < spec.partitions()) {
                toGrow.put(spec.name(), NewPartitions.increaseTo(spec.partitions()));
                outcomes.add(new Outcome(spec.name(), Action.PARTITIONS_ADDED, have, spec.partitions(), notes));
            } else {
                outcomes.add(new Outcome(spec.name(), Action.UNCHANGED, have, have, notes));
            }
        }
        if (!dryRun) {
            create(toCreate, outcomes);
            if (!toGrow.isEmpty()) {
                await(admin.createPartitions(toGrow).all(), "add partitions to " + toGrow.keySet());
            }
            Map<String, Integer> changed = new LinkedHashMap<>();
            outcomes.stream().filter(o -> o.action() != Action.UNCHANGED)
                    .forEach(o -> changed.put(o.topic(), o.partitionsAfter()));
            awaitVisible(changed);
        }
        return new Report(outcomes, dryRun, replicationFactor);
    }

    /**
     * Waits until the broker's metadata shows the changed topics with their partitions: the controller acknowledges
     * a change before every broker serves it, and a client (or a second apply) right after must see it.
     */
    private void awaitVisible(Map<String, Integer> partitions) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!partitions.isEmpty()) {
            try {
                Map<String, TopicDescription> seen = admin.describeTopics(partitions.keySet()).allTopicNames()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (seen.entrySet().stream()
                        .allMatch(e -> e.getValue().partitions().size() >= partitions.get(e.getKey()))) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new IOException("could not describe topics " + partitions.keySet() + ": "
                            + e.getCause().getMessage(), e.getCause());
                }
            } catch (TimeoutException e) {
                // Fall through to the deadline check.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for topics " + partitions.keySet(), e);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("topics " + partitions.keySet() + " were created but are not visible after "
                        + timeout.toSeconds() + " s");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for topics " + partitions.keySet(), e);
            }
        }
    }

    private void create(List<NewTopic> toCreate, List<Outcome> outcomes) throws IOException {
        if (toCreate.isEmpty()) {
            return;
        }
        Map<String, KafkaFuture<Void>> results = admin.createTopics(toCreate).values();
        for (var entry : results.entrySet()) {
            try {
                await(entry.getValue(), "create topic " + entry.getKey());
            } catch (IOException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
                // Created concurrently by someone else between our listing and our create: it exists, as wanted.
                outcomes.replaceAll(o -> o.topic().equals(entry.getKey())
                        ? new Outcome(o.topic(), Action.UNCHANGED, o.partitionsAfter(), o.partitionsAfter(),
                                List.of("created concurrently by another client; not checked"))
                        : o);
            }
        }
    }

    private Map<String, String> wantedConfigs(TopicSpec<?> spec) {
        Map<String, String> wanted = new LinkedHashMap<>(spec.configs());
        wanted.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInSyncReplicas(replicationFactor)));
        return wanted;
    }

    private Map<String, Config> describeConfigs(List<String> topics) throws IOException {
        List<ConfigResource> resources = topics.stream()
                .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<ConfigResource, Config> byResource = await(admin.describeConfigs(resources).all(), "describe configs");
        Map<String, Config> byName = new HashMap<>();
        byResource.forEach((r, c) -> byName.put(r.name(), c));
        return byName;
    }

    private <T> T await(KafkaFuture<T> future, String what) throws IOException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("Kafka did not answer within " + timeout.toSeconds() + " s (" + what + ")", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new IOException("Kafka did not answer within " + timeout.toSeconds() + " s (" + what + ")",
                        cause);
            }
            throw new IOException("could not " + what + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting to " + what, e);
        }
    }
}
