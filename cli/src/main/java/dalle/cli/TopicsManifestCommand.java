package dalle.cli;

import dalle.services.common.StrimziTopics;
import dalle.services.common.Topics;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalle topics manifest --format strimzi}: the registry as Kubernetes resources, printed to stdout.
 * {@code deploy/kafka/topics.yaml} is this command's output with the defaults (a test keeps them equal).
 */
@Command(name = "manifest", mixinStandardHelpOptions = true,
        description = {"Print the registry's topics as Kubernetes resources (no broker needed).",
                "deploy/kafka/topics.yaml is the output with the defaults: "
                        + StrimziTopics.REGENERATE_COMMAND})
final class TopicsManifestCommand implements Callable<Integer> {

    /** The formats this command writes. */
    enum Format { strimzi }

    @Spec CommandSpec spec;

    @Option(names = "--format", required = true, paramLabel = "FORMAT",
            description = "strimzi: one KafkaTopic (" + StrimziTopics.API_VERSION + ") per topic.")
    Format format;

    @Option(names = "--cluster", defaultValue = StrimziTopics.DEFAULT_CLUSTER, paramLabel = "NAME",
            description = "The Strimzi Kafka resource the topics belong to (default ${DEFAULT-VALUE}).")
    String cluster;

    @Option(names = "--replicas", defaultValue = "" + StrimziTopics.DEFAULT_REPLICAS, paramLabel = "R",
            description = "Replicas per partition (default ${DEFAULT-VALUE}); min.insync.replicas follows as in "
                    + "'topics apply'.")
    short replicas;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(StrimziTopics.manifest(Topics.all(), cluster, replicas));
        out.flush();
        return 0;
    }
}
