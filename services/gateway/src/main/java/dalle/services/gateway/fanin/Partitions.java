package dalle.services.gateway.fanin;

import dalle.services.common.TopicSetup;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;

/** Partition counts of existing topics, which decide how the topologies co-partition their inputs. */
final class Partitions {

    private Partitions() {
    }

    /**
     * Partitions of each topic, in the given order, asked as the Streams application {@code settings} connects.
     *
     * @throws IOException when a topic is missing (with the command that creates them) or Kafka does not answer
     */
    static Map<String, Integer> of(StreamsSettings settings, Collection<String> topics) throws IOException {
        String bootstrap = settings.bootstrap();
        Duration timeout = settings.startTimeout();
        Map<String, Object> config = TopicSetup.adminConfig(bootstrap, timeout);
        // the Streams app's security settings (kafka.security.protocol, kafka.sasl.*, kafka.ssl.*) apply here too
        settings.overrides().forEach((k, v) -> {
            if (k.startsWith("security.") || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                config.put(k, v);
            }
        });
        try (Admin admin = Admin.create(config)) {
            Map<String, TopicDescription> d = admin.describeTopics(topics).allTopicNames()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (String t : topics) {
                counts.put(t, d.get(t).partitions().size());
            }
            return counts;
        } catch (ExecutionException e) {
            throw new IOException("Kafka at " + bootstrap + ": cannot describe " + topics + " (" + e.getCause()
                    + "); create the topics with `dalle topics apply --bootstrap " + bootstrap + "`", e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("Kafka at " + bootstrap + " did not answer within " + timeout.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while describing " + topics, e);
        }
    }
}
