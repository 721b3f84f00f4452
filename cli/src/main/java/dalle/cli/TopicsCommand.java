package dalle.cli;

import dalle.services.common.TopicSetup;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.kafka.KafkaSecurity;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dalle topics}: the pipeline's Kafka topics, from the one registry ({@link Topics}). */
@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "The pipeline's Kafka topics (the registry in dalle.services.common.Topics).",
        subcommands = {TopicsCommand.Apply.class, TopicsCommand.ListTopics.class, TopicsManifestCommand.class})
final class TopicsCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = {"Create the registry's topics on a Kafka cluster; safe to run again.",
                    "Missing topics are created and missing partitions added (never removed); settings that differ "
                            + "from the registry are reported, not changed."})
    static final class Apply implements Callable<Integer> {

        private static final Pattern BOOTSTRAP = Pattern.compile("[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*");

        @Spec CommandSpec spec;

        @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT",
                description = "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...].")
        String bootstrap;

        @Option(names = "--replication-factor", defaultValue = "1", paramLabel = "R",
                description = "Replicas of each new topic (default ${DEFAULT-VALUE}); min.insync.replicas follows "
                        + "(2 from 3 replicas on).")
        short replicationFactor;

        @Mixin KafkaSecurityOptions kafka;

        @Option(names = "--dry-run", description = "Only say what would change.")
        boolean dryRun;

        @Option(names = "--timeout", defaultValue = "30", paramLabel = "SECONDS",
                description = "How long to wait for the cluster (default ${DEFAULT-VALUE} s).")
        int timeoutSeconds;

        @Override
        public Integer call() throws IOException {
            if (!BOOTSTRAP.matcher(bootstrap).matches()) {
                throw new IllegalArgumentException("--bootstrap '" + bootstrap + "' is not HOST:PORT[,HOST:PORT...]");
            }
            if (replicationFactor < 1) {
                throw new IllegalArgumentException("--replication-factor " + replicationFactor + " is below 1");
            }
            if (timeoutSeconds < 1) {
                throw new IllegalArgumentException("--timeout " + timeoutSeconds + " is below 1 second");
            }
            Duration timeout = Duration.ofSeconds(timeoutSeconds);
            KafkaSecurity security = kafka.security();
            PrintWriter out = spec.commandLine().getOut();
            Admin admin;
            try {
                admin = Admin.create(TopicSetup.adminConfig(bootstrap, timeout, security));
            } catch (KafkaException e) {
                throw new IllegalArgumentException("--bootstrap '" + bootstrap + "': " + e.getMessage(), e);
            }
            try (admin) {
                TopicSetup.Report report = new TopicSetup(admin, replicationFactor, timeout).apply(dryRun);
                out.println("Kafka at " + bootstrap + " (" + security + ")" + (dryRun ? " (dry run)" : "") + ":");
                report.lines().forEach(out::println);
            } catch (IOException e) {
                throw new IOException("Kafka at " + bootstrap + ": " + e.getMessage(), e);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Print the registry: topic, value type, partitions, retention, size limit. No broker needed.")
    static final class ListTopics implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            out.printf("%-26s %-18s %10s %10s %10s%n", "topic", "value", "partitions", "retention", "max bytes");
            for (TopicSpec<?> t : Topics.all()) {
                out.printf("%-26s %-18s %10d %10s %10s%n", t.name(),
                        t.isDeadLetter() ? "original bytes" : t.valueType().getSimpleName(), t.partitions(),
                        days(t.retention()), mib(t.maxMessageBytes()));
            }
            out.println("Keys are the request id (UTF-8). Dead letters carry the dlq-* headers of "
                    + "dalle/v1/events.proto.");
            out.flush();
            return 0;
        }

        private static String days(Duration d) {
            return d.toDays() + "d";
        }

        private static String mib(int bytes) {
            return String.format("%.2f MiB", bytes / 1048576.0);
        }
    }
}
