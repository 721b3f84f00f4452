package dalle.services.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.TopicSetup.Action;
import dalle.services.common.TopicSetup.Outcome;
import dalle.services.common.TopicSetup.Report;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

/** TopicSetup against a real broker: creates the registry exactly, is idempotent, never shrinks, reports drift. */
class TopicSetupTest {

    @Test
    void applyCreatesEveryRegistryTopicWithItsPartitionsAndConfigsAndASecondApplyIsANoOp() throws Exception {
        try (Admin admin = TestBroker.admin()) {
            TopicSetup setup = new TopicSetup(admin, (short) 1, TestBroker.TIMEOUT);
            setup.apply(false);

            List<String> names = Topics.all().stream().map(TopicSpec::name).toList();
            Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames()
                    .get(30, TimeUnit.SECONDS);
            Map<ConfigResource, Config> configs = admin.describeConfigs(names.stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList()).all().get(30, TimeUnit.SECONDS);
            for (TopicSpec<?> spec : Topics.all()) {
                TopicDescription d = described.get(spec.name());
                assertEquals(spec.partitions(), d.partitions().size(), spec.name());
                assertEquals(1, d.partitions().get(0).replicas().size(), spec.name());
                Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()));
                assertEquals(Long.toString(spec.retention().toMillis()), c.get("retention.ms").value(), spec.name());
                assertEquals(Integer.toString(spec.maxMessageBytes()), c.get("max.message.bytes").value(), spec.name());
                assertEquals("delete", c.get("cleanup.policy").value(), spec.name());
                assertEquals("1", c.get("min.insync.replicas").value(), spec.name());
            }
            assertEquals("1209600000", configs.get(new ConfigResource(ConfigResource.Type.TOPIC, "generation-results"))
                    .get("retention.ms").value(), "14 days");

            Report again = setup.apply(false);
            assertTrue(again.isNoOp(), String.join("\n", again.lines()));
            assertTrue(again.withNotes().isEmpty(), String.join("\n", again.lines()));
            assertEquals(14, again.outcomes().size());
        }
    }

    @Test
    void partitionsAreRaisedNeverLoweredAndConfigDriftIsReportedNotChanged() throws Exception {
        try (Admin admin = TestBroker.admin()) {
            TopicSetup setup = new TopicSetup(admin, (short) 1, TestBroker.TIMEOUT);
            String name = "setup-test-growth";

            Report dry = setup.apply(List.of(spec(name, 2, Duration.ofDays(1))), true);
            assertEquals(Action.CREATED, dry.outcomes().get(0).action());
            assertTrue(dry.lines().get(0).contains("would create"), dry.lines().get(0));
            assertFalse(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(name), "a dry run changes nothing");

            assertEquals(Action.CREATED, setup.apply(List.of(spec(name, 2, Duration.ofDays(1))), false).outcomes().get(0).action());

            Outcome grown = setup.apply(List.of(spec(name, 4, Duration.ofDays(1))), false).outcomes().get(0);
            assertEquals(new Outcome(name, Action.PARTITIONS_ADDED, 2, 4, List.of()), grown);
            assertEquals(4, partitions(admin, name));

            // An operator changed retention by hand; the registry now asks for fewer partitions.
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                    new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            Outcome kept = setup.apply(List.of(spec(name, 1, Duration.ofDays(1))), false).outcomes().get(0);
            assertEquals(Action.UNCHANGED, kept.action());
            assertEquals(List.of("has 4 partitions, the registry says 1 (partitions are never decreased)",
                    "retention.ms is 3600000, the registry says 86400000 (left as is)"), kept.notes());
            assertEquals(4, partitions(admin, name));
            assertEquals("3600000", admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS)
                    .get(resource).get("retention.ms").value());
        }
    }

    @Test
    void aReplicationFactorAboveTheBrokerCountIsRefusedBeforeAnyChange() throws Exception {
        try (Admin admin = TestBroker.admin()) {
            TopicSetup setup = new TopicSetup(admin, (short) 3, TestBroker.TIMEOUT);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> setup.apply(List.of(spec("setup-test-rf", 1, Duration.ofDays(1))), false));
            assertEquals("replication factor 3 exceeds the cluster's 1 broker(s)", e.getMessage());
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            assertFalse(names.contains("setup-test-rf"));
        }
        assertEquals(1, TopicSetup.minInSyncReplicas((short) 1));
        assertEquals(1, TopicSetup.minInSyncReplicas((short) 2));
        assertEquals(2, TopicSetup.minInSyncReplicas((short) 3));
        assertEquals(2, TopicSetup.minInSyncReplicas((short) 5));
    }

    @Test
    void reportLinesNameEachTopicAndSummarize() {
        Report r = new Report(List.of(new Outcome("a-topic", Action.CREATED, 0, 3, List.of()),
                new Outcome("b-topic", Action.UNCHANGED, 6, 6, List.of("retention.ms is 1, the registry says 2 (left as is)"))),
                false, (short) 1);
        String text = r.lines().stream().collect(Collectors.joining("\n"));
        assertEquals("""
                a-topic                    created       3 partitions, replication factor 1
                b-topic                    unchanged     6 partitions
                    note: retention.ms is 1, the registry says 2 (left as is)
                2 topics: 1 created, 0 with partitions added, 1 unchanged; 1 differ from the registry""", text);
    }

    private static TopicSpec<byte[]> spec(String name, int partitions, Duration retention) {
        return new TopicSpec<>(name, byte[].class, Serdes.ByteArray(), partitions, retention, 1 << 20);
    }

    private static int partitions(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size();
    }
}
