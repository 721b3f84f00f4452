package dalle.services.gateway;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * For @QuarkusTest: two sets of {@link FakeStages}. The gateway's tokenizer, decoder and reranker are the first
 * set's; its sampler target names both sets' samplers (two replicas behind one name), so that calls can be
 * counted per replica. Kafka is off: jobs are tested across processes in {@code tests/}.
 */
public class GatewayFakes implements QuarkusTestResourceLifecycleManager {

    static FakeStages first;
    static FakeStages second;

    @Override
    public Map<String, String> start() {
        io.grpc.NameResolverRegistry.getDefaultRegistry().register(new ListNameResolverProvider());
        try {
            first = new FakeStages();
            second = new FakeStages();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String a = "127.0.0.1:" + first.port();
        return Map.of("dalle.kafka.enabled", "false", "dalle.gateway.tokenizer-address", a,
                "dalle.gateway.sampler-address", "test-list:///" + a + ",127.0.0.1:" + second.port(),
                "dalle.gateway.decoder-address", a, "dalle.gateway.reranker-address", a,
                "dalle.gateway.model-check-interval", "200ms");
    }

    @Override
    public void stop() {
        first.close();
        second.close();
    }
}
