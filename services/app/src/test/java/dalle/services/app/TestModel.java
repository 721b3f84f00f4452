package dalle.services.app;

import ai.djl.ndarray.NDManager;
import dalle.core.bundle.ModelBundle;
import dalle.core.clip.ClipConfig;
import dalle.core.clip.ContrastiveScorer;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.io.SafeTensors;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import dalle.services.app.stage.StageModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A small random-weight bundle for the tests (as core's TestBundles, which is not exported): 32×32 images, a 4×4
 * grid over 64 codes, a two-layer prior. Its images are noise; the mechanics are real. Written once per test JVM
 * to target/test-bundle.
 */
public final class TestModel {

    private static Path dir;
    private static StageModel model;

    private TestModel() {
    }

    /** The bundle directory (written on first use). */
    public static synchronized Path dir() {
        if (dir == null) {
            Path d = Path.of("target", "test-bundle").toAbsolutePath();
            try {
                if (!Files.exists(d.resolve("bundle.json"))) {
                    write(d);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            dir = d;
        }
        return dir;
    }

    /** One loaded model shared by the plain tests. */
    public static synchronized StageModel model() {
        if (model == null) {
            model = new StageModel(ModelBundle.load(dir()));
        }
        return model;
    }

    static void write(Path dir) throws IOException {
        ShapesDataset shapes = ShapesDataset.train(3, 32);
        List<String> captions = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            captions.add(shapes.caption(i).text());
        }
        BpeTokenizer tok = BpeTokenizer.train(captions, 320);
        try (NDManager m = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(m, new DvaeConfig(32, 4, 64, 8, 1, 8), 1);
            DallePrior prior = new DallePrior(m, new PriorConfig(tok.vocabSize(), 8, tok.padId(), 64, 4, 32, 2, 2, 3, 2), 2);
            ContrastiveScorer clip = new ContrastiveScorer(m,
                    new ClipConfig(tok.vocabSize(), 8, tok.padId(), 32, 32, 1, 2, 8, 16), 3);
            ModelBundle.save(dir, "test", "custom", "random weights for tests", tok, dvae, prior, clip,
                    SafeTensors.Storage.F32);
        }
    }
}
