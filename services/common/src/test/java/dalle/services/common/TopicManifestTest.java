package dalle.services.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** deploy/kafka/topics.yaml cannot drift from the registry: it must be {@link StrimziTopics}' output, byte for byte. */
class TopicManifestTest {

    @Test
    void committedDeployKafkaTopicsYamlIsTheRegistrysManifest() throws IOException {
        Path file = repositoryRoot().resolve("deploy/kafka/topics.yaml");
        assertTrue(Files.isRegularFile(file), file + " is missing; write it: " + StrimziTopics.REGENERATE_COMMAND);
        List<String> committed = Files.readString(file, StandardCharsets.UTF_8).lines().toList();
        List<String> expected = StrimziTopics.defaultManifest().lines().toList();
        for (int i = 0; i < Math.max(committed.size(), expected.size()); i++) {
            String want = i < expected.size() ? expected.get(i) : "<end of file>";
            String have = i < committed.size() ? committed.get(i) : "<end of file>";
            if (!want.equals(have)) {
                fail("deploy/kafka/topics.yaml differs from the registry (dalle.services.common.Topics) at line "
                        + (i + 1) + ": expected '" + want + "', found '" + have + "'. Regenerate it: "
                        + StrimziTopics.REGENERATE_COMMAND);
            }
        }
    }

    @Test
    void everyRegistryTopicIsOneKafkaTopicWithItsPartitionsRetentionAndSizeLimit() {
        String yaml = StrimziTopics.defaultManifest();
        List<String> docs = List.of(yaml.split("\n---\n")).stream().map(d -> d.endsWith("\n") ? d : d + "\n")
                .toList();
        assertEquals(Topics.all().size() + 1, docs.size(), "a header, then one document per topic");
        for (int i = 0; i < Topics.all().size(); i++) {
            TopicSpec<?> t = Topics.all().get(i);
            String doc = docs.get(i + 1);
            assertTrue(doc.contains("kind: KafkaTopic\n"), doc);
            assertTrue(doc.contains("  name: " + t.name() + "\n"), doc);
            assertTrue(doc.contains("    strimzi.io/cluster: dalle\n"), doc);
            assertTrue(doc.contains("  partitions: " + t.partitions() + "\n"), doc);
            assertTrue(doc.contains("  replicas: 3\n"), doc);
            assertTrue(doc.contains("    retention.ms: " + t.retention().toMillis() + "\n"), doc);
            assertTrue(doc.contains("    max.message.bytes: " + t.maxMessageBytes() + "\n"), doc);
            assertTrue(doc.contains("    min.insync.replicas: 2\n"), doc);
        }
        assertTrue(docs.get(3).contains("  name: image-codes\n") && docs.get(3).contains("  partitions: 6\n"));
        assertTrue(docs.get(10).contains("  name: image-codes-dlq\n") && docs.get(10).contains("  partitions: 1\n")
                && docs.get(10).contains("    retention.ms: 2592000000\n"), docs.get(10));
    }

    @Test
    void minInSyncReplicasFollowsReplicasAsInTopicsApply() {
        String one = StrimziTopics.manifest(List.of(Topics.IMAGE_CODES), "other", (short) 1);
        assertTrue(one.contains("  replicas: 1\n") && one.contains("    min.insync.replicas: 1\n"), one);
        assertTrue(one.contains("    strimzi.io/cluster: other\n"), one);
        String five = StrimziTopics.manifest(List.of(Topics.IMAGE_CODES), "other", (short) 5);
        assertTrue(five.contains("    min.insync.replicas: 2\n"), five);
    }

    @Test
    void aClusterNameThatIsNotADnsLabelOrReplicasBelowOneAreRejected() {
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                () -> StrimziTopics.manifest(Topics.all(), "My_Cluster", (short) 3));
        assertTrue(name.getMessage().contains("'My_Cluster'"), name.getMessage());
        IllegalArgumentException replicas = assertThrows(IllegalArgumentException.class,
                () -> StrimziTopics.manifest(Topics.all(), "dalle", (short) 0));
        assertTrue(replicas.getMessage().contains("replicas 0"), replicas.getMessage());
    }

    /** The checkout: the first folder from the working directory (the module, under surefire) up with deploy/. */
    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("deploy")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no folder with deploy/ and pom.xml above " + Path.of("").toAbsolutePath());
    }
}
