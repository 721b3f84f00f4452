package dalle.services.gateway.fanin;

import dalle.services.common.TestBroker;
import java.nio.file.Path;

/** Kafka Streams settings for a test application on the test broker (its topics created first). */
final class TestStreams {

    private TestStreams() {
    }

    /** Settings for a test application: its own id and state folder, quick commits, a short session. */
    static StreamsSettings settings(String applicationId, Path stateDir) {
        return StreamsSettings.of(TestBroker.withTopics(), applicationId, stateDir)
                .with("commit.interval.ms", "100")
                .with("consumer.session.timeout.ms", "10000");
    }
}
