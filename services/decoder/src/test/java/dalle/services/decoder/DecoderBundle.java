package dalle.services.decoder;

import dalle.core.bundle.BundlePart;
import dalle.services.common.TestBroker;
import dalle.services.common.TestBundleParts;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** For @QuarkusTest: the test broker with the registry's topics and a bundle directory with only bundle.json and the dVAE. */
public class DecoderBundle implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", TestBroker.withTopics(),
                "dalle.model", TestBundleParts.only(BundlePart.DVAE).toString());
    }

    @Override
    public void stop() {
        // the broker stops with the test JVM
    }
}
