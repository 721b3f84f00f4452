package dalle.core;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DjlSmokeTest {
    @Test
    void pytorchEngineLoadsOffline() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(6f, m.create(new float[] {1, 2, 3}).sum().getFloat(), 1e-6);
        }
    }
}
