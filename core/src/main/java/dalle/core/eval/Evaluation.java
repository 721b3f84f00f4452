package dalle.core.eval;

import dalle.core.bundle.ModelBundle;
import dalle.core.data.Example;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import java.util.List;

/**
 * One whole evaluation of a bundle: caption-match accuracy over every caption set and reranking
 * size ({@link CaptionMatchEvaluator}), then the dVAE's reconstruction quality on held-out shapes
 * images at the bundle's resolution ({@link ReconstructionEvaluator}). The same bundle and options
 * give the same numbers (timings aside).
 */
public final class Evaluation {

    private Evaluation() {}

    /**
     * @param progress told {@code ("captions", done, total)} per caption, then
     *     {@code ("reconstruct", done, total)} per batch of images
     */
    public static EvalReport run(ModelBundle bundle, EvalOptions options, Pipeline.Progress progress) {
        CaptionMatchEvaluator.Run match = new CaptionMatchEvaluator(new Pipeline(bundle)).evaluate(options, progress);
        List<EvalReport.Reconstruction> reconstructions = List.of();
        double reconstructionSeconds = 0;
        if (options.reconstructionImages() > 0) {
            long t0 = System.nanoTime();
            int size = bundle.dvae().config().imageSize();
            ShapesDataset heldOut = ShapesDataset.heldOut(options.seed(), size);
            List<RgbImage> images = heldOut.examples(0, options.reconstructionImages()).map(Example::image).toList();
            String source = "shapes:held_out:seed=" + options.seed() + ":[0," + options.reconstructionImages() + ")";
            reconstructions = List.of(new ReconstructionEvaluator(bundle.dvae(), bundle.manager())
                    .evaluate(images, source, progress));
            reconstructionSeconds = (System.nanoTime() - t0) / 1e9;
        }
        return new EvalReport(bundle.version(), options, match.sets(), reconstructions,
                new EvalReport.Timings(match.seconds(), match.sampleSeconds(), match.decodeSeconds(),
                        match.scoreSeconds(), match.judgeSeconds(), reconstructionSeconds));
    }
}
