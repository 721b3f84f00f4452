package dalle.services.gateway;

import dalle.services.common.auth.ApiKeys;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * For @QuarkusTest: two sets of {@link FakeStages}. The gateway's tokenizer, decoder and reranker are the first
 * set's; its sampler target names both sets' samplers (two replicas behind one name), so that calls can be
 * counted per replica. Kafka is off: jobs are tested across processes in {@code tests/}.
 */
public class GatewayFakes implements QuarkusTestResourceLifecycleManager {

    /** API keys of two tenants, in the gateway's keys file {@link #keys}. */
    static final String ACME_KEY = ApiKeys.newKey();
    static final String GLOBEX_KEY = ApiKeys.newKey();
    static Path keys;
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
        try {
            keys = Files.createTempFile("dalle-gateway-keys", ".txt");
            Files.writeString(keys, "# test keys\n" + ApiKeys.line(ACME_KEY, "acme", "test key") + "\n"
                    + ApiKeys.line(GLOBEX_KEY, "globex", "") + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("dalle.kafka.enabled", "false", "dalle.gateway.tokenizer-address", a,
                "dalle.gateway.sampler-address", "test-list:///" + a + ",127.0.0.1:" + second.port(),
                "dalle.gateway.decoder-address", a, "dalle.gateway.reranker-address", a,
                "dalle.gateway.model-check-interval", "200ms", "dalle.auth.api-keys-file", keys.toString(),
                "dalle.auth.reload-interval", "100ms");
    }

    @Override
    public void stop() {
        first.close();
        second.close();
    }
}
