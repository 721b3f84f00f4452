package dalle.services.gateway;

import dalle.services.common.TestBroker;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link GatewayFakes} with Kafka on: the test broker with every registry topic, so that jobs are queued on
 * generation-requests and read back through the gateway's own status view. No stage consumes Kafka here: a test
 * plays the rest of the pipeline ({@link FakePipeline}).
 */
public class GatewayFakesWithKafka extends GatewayFakes {

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        config.put("dalle.kafka.enabled", "true");
        config.put("kafka.bootstrap.servers", TestBroker.withTopics());
        config.put("dalle.gateway.state-dir", Path.of("target", "browser-test-state").toAbsolutePath().toString());
        return config;
    }
}
