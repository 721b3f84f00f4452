package dalle.tests;

import ai.djl.ndarray.NDManager;
import dalle.core.bundle.BundleManifest;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The untrained bundle the end-to-end tests serve (core's TestBundles sizes): 32×32 images, a 4×4 grid over 64
 * codes, a two-layer prior, random seeded weights. Its images are noise; every mechanism is real.
 */
final class E2eBundle {

    private E2eBundle() {
    }

    static BundleManifest write(Path dir) throws Exception {
        ShapesDataset shapes = ShapesDataset.train(3, 32);
        List<String> captions = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            captions.add(shapes.caption(i).text());
        }
        BpeTokenizer tok = BpeTokenizer.train(captions, 320);
        try (NDManager m = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(m, new DvaeConfig(32, 4, 64, 8, 1, 8), 1);
            DallePrior prior = new DallePrior(m,
                    new PriorConfig(tok.vocabSize(), 8, tok.padId(), 64, 4, 32, 2, 2, 3, 2), 2);
            ContrastiveScorer clip = new ContrastiveScorer(m,
                    new ClipConfig(tok.vocabSize(), 8, tok.padId(), 32, 32, 1, 2, 8, 16), 3);
            return ModelBundle.save(dir, "e2e", "custom", "random weights for the end-to-end tests", tok, dvae,
                    prior, clip, SafeTensors.Storage.F32);
        }
    }
}
