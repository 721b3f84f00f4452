package dalle.core.bundle;

import ai.djl.ndarray.NDManager;
import dalle.core.clip.ClipConfig;
import dalle.core.clip.ContrastiveScorer;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.io.SafeTensors;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: a small random-weight bundle on disk: 32×32 images, a 4×4 grid over 64
 * codes, a two-layer prior. Its images are noise, so accuracies are ~0; the mechanics are real.
 */
public final class TestBundles {

    private TestBundles() {}

    public static BundleManifest write(Path dir) throws Exception {
        return write(dir, 64);
    }

    /** As {@link #write(Path)}, with the prior over {@code priorCodes} image codes (64 fits the dVAE). */
    public static BundleManifest write(Path dir, int priorCodes) throws Exception {
        ShapesDataset shapes = ShapesDataset.train(3, 32);
        List<String> captions = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            captions.add(shapes.caption(i).text());
        }
        BpeTokenizer tok = BpeTokenizer.train(captions, 320);
        try (NDManager m = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(m, new DvaeConfig(32, 4, 64, 8, 1, 8), 1);
            DallePrior prior = new DallePrior(m,
                    new PriorConfig(tok.vocabSize(), 8, tok.padId(), priorCodes, 4, 32, 2, 2, 3, 2), 2);
            ContrastiveScorer clip = new ContrastiveScorer(m,
                    new ClipConfig(tok.vocabSize(), 8, tok.padId(), 32, 32, 1, 2, 8, 16), 3);
            return ModelBundle.save(dir, "test", "custom", "random weights for tests", tok, dvae, prior, clip,
                    SafeTensors.Storage.F32);
        }
    }
}
