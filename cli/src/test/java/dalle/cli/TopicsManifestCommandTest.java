package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.StrimziTopics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** {@code dalle topics manifest}: prints what deploy/kafka/topics.yaml holds; no broker needed. */
class TopicsManifestCommandTest {

    @Test
    void strimziFormatWithDefaultsPrintsTheCommittedDeployKafkaTopicsYaml() throws Exception {
        CliRun r = CliRun.dalle("topics", "manifest", "--format", "strimzi");
        assertEquals(0, r.exit(), r.err());
        String committed = Files.readString(DeployTree.repositoryRoot().resolve("deploy/kafka/topics.yaml"),
                StandardCharsets.UTF_8);
        assertEquals(committed, r.out(), "regenerate: " + StrimziTopics.REGENERATE_COMMAND);
    }

    @Test
    void clusterAndReplicasAreOptions() {
        CliRun r = CliRun.dalle("topics", "manifest", "--format", "strimzi", "--cluster", "edge", "--replicas", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("    strimzi.io/cluster: edge\n"), r.out());
        assertTrue(r.out().contains("  replicas: 1\n") && r.out().contains("    min.insync.replicas: 1\n"), r.out());
    }

    @Test
    void anUnknownFormatOrABadClusterNameIsRejected() {
        CliRun format = CliRun.dalle("topics", "manifest", "--format", "helm");
        assertEquals(2, format.exit());
        assertTrue(format.err().contains("--format") && format.err().contains("strimzi"), format.err());
        CliRun cluster = CliRun.dalle("topics", "manifest", "--format", "strimzi", "--cluster", "Edge_1");
        assertEquals(2, cluster.exit());
        assertEquals("dalle: cluster name 'Edge_1' is not a DNS label [a-z0-9-], 1..63", cluster.err().strip());
    }
}
