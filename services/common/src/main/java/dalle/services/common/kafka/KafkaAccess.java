package dalle.services.common.kafka;

import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Who may do what on Kafka: one principal per stage and for the gateway, plus the example batch client, each
 * allowed exactly what its code does, derived from the topic registry ({@link Topics}). The deploy's Strimzi
 * {@code KafkaUser}s must grant the same (a test compares them), and the SASL_SSL broker tests apply these very
 * grants, so a stage that needs more than this fails there.
 *
 * <ul>
 *   <li>{@code dalle-<stage>}: read its input topic in its group {@code dalle-<stage>} ({@link KafkaStage}), write its
 *       output topic, {@code generation-events} (FAILED events) and its input's {@code -dlq};</li>
 *   <li>{@code dalle-gateway}: write {@code generation-requests} (jobs); its two Streams applications (application
 *       ids prefixed {@code dalle-fan-in} and {@code dalle-status-view}) read {@code candidate-scores},
 *       {@code generation-events} and {@code generation-results}, write {@code generation-results},
 *       {@code generation-events} and the dead letters of what they read, and own their internal topics, groups
 *       and transactional ids (prefixed by the application id);</li>
 *   <li>{@value #BATCH_CLIENT}: a batch client writes {@code generation-requests} and reads
 *       {@code generation-results} in groups prefixed {@code batch-client}. Such a principal is trusted across
 *       tenants: it reads every request's result. Tenant isolation on Kafka means a principal per tenant with its
 *       own topics; the gateway's API-key tenants are HTTP/gRPC only.</li>
 * </ul>
 */
public final class KafkaAccess {

    /** The example batch client's principal (and its consumer group prefix). */
    public static final String BATCH_CLIENT = "batch-client";
    /** The gateway's principal. */
    public static final String GATEWAY = "dalle-gateway";
    /** The gateway's default Streams application ids (dalle.gateway.fan-in-application-id, ...status-view-...). */
    public static final List<String> GATEWAY_APPLICATION_IDS = List.of("dalle-fan-in", "dalle-status-view");

    /** What a grant applies to; the names are Strimzi's ({@code KafkaUser} {@code spec.authorization.acls}). */
    public enum Resource { topic, group, transactionalId, cluster }

    /**
     * Allow {@code operations} on a resource.
     *
     * @param prefix whether {@code name} is a prefix (Strimzi {@code patternType: prefix}) or the literal name
     */
    public record Grant(Resource resource, String name, boolean prefix, Set<String> operations) {
        public Grant {
            operations = Set.copyOf(operations);
        }
    }

    /** A stage, its input and its output topic. */
    public record StageTopics(String stage, TopicSpec<?> input, TopicSpec<?> output) {
        /** {@code dalle-<stage>}: the principal, and the consumer group {@link KafkaStage} uses. */
        public String principal() {
            return "dalle-" + stage;
        }
    }

    /** The four stages in pipeline order. */
    public static final List<StageTopics> STAGES = List.of(
            new StageTopics("tokenizer", Topics.GENERATION_REQUESTS, Topics.TOKENIZED_REQUESTS),
            new StageTopics("sampler", Topics.TOKENIZED_REQUESTS, Topics.IMAGE_CODES),
            new StageTopics("decoder", Topics.IMAGE_CODES, Topics.CANDIDATE_IMAGES),
            new StageTopics("reranker", Topics.CANDIDATE_IMAGES, Topics.CANDIDATE_SCORES));

    private KafkaAccess() {
    }

    /** Every principal's grants: the four stages, the gateway, the batch client. */
    public static Map<String, List<Grant>> all() {
        Map<String, List<Grant>> m = new LinkedHashMap<>();
        for (StageTopics s : STAGES) {
            m.put(s.principal(), stage(s));
        }
        m.put(GATEWAY, gateway());
        m.put(BATCH_CLIENT, batchClient());
        return m;
    }

    /** A stage's grants. */
    public static List<Grant> stage(StageTopics s) {
        return List.of(
                topic(s.input().name(), "Read", "Describe"),
                new Grant(Resource.group, s.principal(), false, Set.of("Read")),
                topic(s.output().name(), "Write", "Describe"),
                topic(Topics.GENERATION_EVENTS.name(), "Write", "Describe"),
                topic(Topics.deadLetterTopic(s.input().name()), "Write", "Describe"));
    }

    /** The gateway's grants (its producer and both Streams applications). */
    public static List<Grant> gateway() {
        List<Grant> g = new ArrayList<>(List.of(
                topic(Topics.GENERATION_REQUESTS.name(), "Write", "Describe"),
                topic(Topics.CANDIDATE_SCORES.name(), "Read", "Describe"),
                topic(Topics.GENERATION_EVENTS.name(), "Read", "Write", "Describe"),
                topic(Topics.GENERATION_RESULTS.name(), "Read", "Write", "Describe"),
                topic(Topics.deadLetterTopic(Topics.CANDIDATE_SCORES.name()), "Write", "Describe"),
                topic(Topics.deadLetterTopic(Topics.GENERATION_EVENTS.name()), "Write", "Describe"),
                topic(Topics.deadLetterTopic(Topics.GENERATION_RESULTS.name()), "Write", "Describe")));
        for (String app : GATEWAY_APPLICATION_IDS) {
            // internal (changelog, repartition) topics <app>-..., the group <app>, transactional ids <app>-...
            g.add(new Grant(Resource.topic, app, true, Set.of("All")));
            g.add(new Grant(Resource.group, app, true, Set.of("Read", "Describe")));
            g.add(new Grant(Resource.transactionalId, app, true, Set.of("Write", "Describe")));
        }
        return List.copyOf(g);
    }

    /** The example batch client's grants: submit requests, read results. */
    public static List<Grant> batchClient() {
        return List.of(
                topic(Topics.GENERATION_REQUESTS.name(), "Write", "Describe"),
                topic(Topics.GENERATION_RESULTS.name(), "Read", "Describe"),
                new Grant(Resource.group, BATCH_CLIENT, true, Set.of("Read")));
    }

    /** The grants as Kafka ACL bindings for {@code User:<principal>} from any host. */
    public static List<AclBinding> aclBindings(String principal, List<Grant> grants) {
        List<AclBinding> bindings = new ArrayList<>();
        for (Grant g : grants) {
            ResourcePattern pattern = new ResourcePattern(switch (g.resource()) {
                case topic -> ResourceType.TOPIC;
                case group -> ResourceType.GROUP;
                case transactionalId -> ResourceType.TRANSACTIONAL_ID;
                case cluster -> ResourceType.CLUSTER;
            }, g.name(), g.prefix() ? PatternType.PREFIXED : PatternType.LITERAL);
            for (String op : g.operations()) {
                bindings.add(new AclBinding(pattern, new AccessControlEntry("User:" + principal, "*",
                        AclOperation.fromString(op.toUpperCase(Locale.ROOT)), AclPermissionType.ALLOW)));
            }
        }
        return bindings;
    }

    private static Grant topic(String name, String... operations) {
        return new Grant(Resource.topic, name, false, Set.of(operations));
    }
}
