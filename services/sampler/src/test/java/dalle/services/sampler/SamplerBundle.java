package dalle.services.sampler;

import dalle.core.bundle.BundlePart;
import dalle.services.common.TestBroker;
import dalle.services.common.TestBundleParts;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * For @QuarkusTest: the test broker with the registry's topics, a bundle directory holding only bundle.json and
 * the prior, and a 50 ms batching delay with room for 32 candidates (so a request with a 1 ms deadline is still
 * queued when its deadline passes, and 33 candidates never fit).
 */
public class SamplerBundle implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", TestBroker.withTopics(),
                "dalle.model", TestBundleParts.only(BundlePart.PRIOR).toString(),
                "dalle.sampler.max-batch", "16", "dalle.sampler.max-delay", "50ms",
                "dalle.sampler.queue-capacity", "32");
    }

    @Override
    public void stop() {
        // the broker stops with the test JVM
    }
}
