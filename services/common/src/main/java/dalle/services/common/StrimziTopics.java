package dalle.services.common;

import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The registry ({@link Topics}) as Strimzi {@code KafkaTopic} resources, so that a Kubernetes cluster managed by
 * Strimzi's Topic Operator gets exactly the topics {@code dalle topics apply} creates: same names, partitions and
 * topic configs ({@link TopicSpec#configs()}), and {@code min.insync.replicas} by the same rule
 * ({@link TopicSetup#minInSyncReplicas(short)}).
 *
 * <p>{@code deploy/kafka/topics.yaml} is this class's output for {@link Topics#all()}, cluster
 * {@value #DEFAULT_CLUSTER} and {@value #DEFAULT_REPLICAS} replicas; a test fails when the two differ. The text is
 * deterministic (registry order, fixed key order), written by hand rather than through a YAML library so that
 * {@code services/common} needs no new dependency.
 */
public final class StrimziTopics {

    /**
     * The {@code KafkaTopic} API version: {@code v1}, the only one Strimzi 1.x serves (its CRDs, checked by the
     * deploy tests); v1beta2 is deprecated since Strimzi 0.49, which added v1.
     */
    public static final String API_VERSION = "kafka.strimzi.io/v1";
    /** The {@code Kafka} resource the topics belong to ({@code strimzi.io/cluster} label). */
    public static final String DEFAULT_CLUSTER = "dalle";
    /** Replicas per partition: 3 brokers, so a write with {@code acks=all} survives losing one. */
    public static final short DEFAULT_REPLICAS = 3;
    /** The command that writes {@code deploy/kafka/topics.yaml}. */
    public static final String REGENERATE_COMMAND =
            "./dalle topics manifest --format strimzi > deploy/kafka/topics.yaml";

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DIGITS = Pattern.compile("\\d+");

    private StrimziTopics() {
    }

    /**
     * One {@code KafkaTopic} document per topic, separated by {@code ---}, after a header comment saying where the
     * text comes from. No namespace: the kustomization (or {@code kubectl -n}) sets it, and it must be the
     * namespace the Topic Operator watches (by default the {@code Kafka} resource's own).
     *
     * @param topics the topics, e.g. {@link Topics#all()}; each becomes a resource named after the topic
     * @param cluster the Strimzi {@code Kafka} resource's name, a DNS label
     * @param replicas replicas per partition, 1..the cluster's brokers
     * @throws IllegalArgumentException for a cluster name that is not a DNS label, replicas below 1, or no topics
     */
    public static String manifest(Collection<? extends TopicSpec<?>> topics, String cluster, short replicas) {
        Objects.requireNonNull(topics, "topics");
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("no topics to write");
        }
        if (cluster == null || !DNS_LABEL.matcher(cluster).matches()) {
            throw new IllegalArgumentException("cluster name '" + cluster + "' is not a DNS label [a-z0-9-], 1..63");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas " + replicas + " is below 1");
        }
        StringBuilder y = new StringBuilder();
        y.append("# Generated from dalle.services.common.Topics (the topic registry); do not edit.\n");
        y.append("# Regenerate: ").append(REGENERATE_COMMAND).append('\n');
        y.append("# Cluster '").append(cluster).append("', ").append(replicas).append(" replicas per partition, ")
                .append(topics.size()).append(" topics (pipeline topics, then their dead-letter topics).\n");
        for (TopicSpec<?> t : topics) {
            y.append("---\n");
            y.append("apiVersion: ").append(API_VERSION).append('\n');
            y.append("kind: KafkaTopic\n");
            y.append("metadata:\n");
            y.append("  name: ").append(t.name()).append('\n');
            y.append("  labels:\n");
            y.append("    strimzi.io/cluster: ").append(cluster).append('\n');
            y.append("    app.kubernetes.io/part-of: dalle-jvm\n");
            y.append("    dalle.io/topic-kind: ").append(t.isDeadLetter() ? "dead-letter" : "pipeline").append('\n');
            y.append("spec:\n");
            y.append("  topicName: ").append(t.name()).append('\n');
            y.append("  partitions: ").append(t.partitions()).append('\n');
            y.append("  replicas: ").append(replicas).append('\n');
            y.append("  config:\n");
            for (Map.Entry<String, String> c : t.configs().entrySet()) {
                y.append("    ").append(c.getKey()).append(": ").append(scalar(c.getValue())).append('\n');
            }
            y.append("    ").append(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).append(": ")
                    .append(TopicSetup.minInSyncReplicas(replicas)).append('\n');
        }
        return y.toString();
    }

    /** {@link #manifest} of the whole registry for the default cluster and replicas. */
    public static String defaultManifest() {
        return manifest(Topics.all(), DEFAULT_CLUSTER, DEFAULT_REPLICAS);
    }

    /** Digits stay YAML integers; anything else (all configs here are plain words) is quoted to be safe. */
    private static String scalar(String value) {
        return DIGITS.matcher(value).matches() ? value : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
