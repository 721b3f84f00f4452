package dalle.services.app;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** For @QuarkusTest: the shared real broker (topics created) and the test bundle, as config. */
public class KafkaAndBundle implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return SharedKafka.quarkusConfig();
    }

    @Override
    public void stop() {
        // the broker stops with the test JVM (LocalKafka's shutdown hook)
    }
}
