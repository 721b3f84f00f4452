package dalle.services.tokenizer;

import dalle.services.common.TestBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * For @QuarkusTest: the test broker with the registry's topics, and a bundle directory holding only what the
 * tokenizer stage may read: the shipped tiny bundle's bundle.json and tokenizer.json, no weights. Connections
 * age out after one second.
 */
public class TokenizerBundle implements QuarkusTestResourceLifecycleManager {

    /** target/tokenizer-only-bundle, copied from models/tiny. */
    static Path dir() {
        Path dir = Path.of("target", "tokenizer-only-bundle").toAbsolutePath();
        Path tiny = Path.of("..", "..", "models", "tiny");
        try {
            Files.createDirectories(dir);
            for (String f : new String[] {"bundle.json", "tokenizer.json"}) {
                Files.copy(tiny.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", TestBroker.withTopics(), "dalle.model", dir().toString(),
                "dalle.grpc.max-connection-age", "1s");
    }

    @Override
    public void stop() {
        // the broker stops with the test JVM
    }
}
