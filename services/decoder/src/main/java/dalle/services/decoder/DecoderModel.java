package dalle.services.decoder;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import dalle.services.common.stage.ModelInfos;
import dalle.services.common.stage.Pngs;
import dalle.v1.Image;
import dalle.v1.ModelInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The dVAE of a bundle: grids to PNG images, as {@link Pipeline#decode} makes them. */
public final class DecoderModel implements AutoCloseable {

    private final ModelBundle bundle;
    private final Pipeline pipeline;
    private final ModelInfo info;
    private final int workers;

    private DecoderModel(ModelBundle bundle, int workers) {
        this.bundle = bundle;
        this.pipeline = new Pipeline(bundle);
        this.info = ModelInfos.of(bundle);
        this.workers = workers;
    }

    /**
     * Loads and checks the dVAE of the bundle in {@code dir} (other parts need not be there).
     *
     * @param workers one-image passes run at once per {@link #decode} ({@link Pipeline#decode(List, Pipeline.Progress,
     *     int)}), at least 1
     * @throws dalle.core.io.CheckpointException naming the file when the manifest or the dVAE is unusable
     */
    public static DecoderModel load(Path dir, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("dalle.decode-workers is " + workers + "; it must be at least 1");
        }
        return new DecoderModel(ModelBundle.load(dir, Set.of(BundlePart.DVAE)), workers);
    }

    public ModelInfo info() {
        return info;
    }

    /** Decodes grids to PNG images, in order; call on the stage thread. */
    public List<Image> decode(List<int[]> grids) {
        List<Image> out = new ArrayList<>(grids.size());
        for (RgbImage img : decodePixels(grids)) {
            out.add(Pngs.image(img));
        }
        return out;
    }

    /** Decodes grids to images, in order, before any PNG is written ({@link Pngs#image} of each is {@link #decode}'s). */
    public List<RgbImage> decodePixels(List<int[]> grids) {
        return pipeline.decode(grids, Pipeline.Progress.NONE, workers);
    }

    @Override
    public void close() {
        bundle.close();
    }
}
