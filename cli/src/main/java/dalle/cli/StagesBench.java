package dalle.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code dalle bench stages}: decode + rerank of N images, the {@link Pipeline}'s stages (up to
 * {@link Pipeline#DECODE_BATCH} images a forward pass) against the one-image-per-forward-pass baseline (the dVAE on a
 * batch of one, the reranker's {@code logits(encodeImage, encodeText)} on a batch of one), interleaved, medians of
 * CPU and wall seconds; for measuring a batching rule for the stages against one image at a time.
 */
final class StagesBench {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final PrintWriter out;
    private final int repeat;

    StagesBench(PrintWriter out, int repeat) {
        this.out = out;
        this.repeat = repeat;
    }

    int run(Path bundleDir, int images) {
        try (ModelBundle bundle = ModelBundle.load(bundleDir)) {
            Pipeline pipeline = new Pipeline(bundle);
            int cells = bundle.dvae().config().gridSize() * bundle.dvae().config().gridSize();
            SplittableRandom rng = new SplittableRandom(3);
            List<int[]> codes = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                codes.add(rng.ints(cells, 0, bundle.dvae().config().codebookSize()).toArray());
            }
            int[] text = pipeline.tokenize("a small red circle above a blue square");
            oneAtATime(bundle, pipeline, codes, text); // warm-up (and the batched stages' one-off checks)
            batched(pipeline, codes, text);
            double[][] cpu = new double[2][repeat];
            double[][] wall = new double[2][repeat];
            for (int r = 0; r < repeat; r++) {
                for (int j = 0; j < 2; j++) {
                    int which = (j + r) % 2;
                    long w0 = System.nanoTime();
                    long c0 = THREADS.getCurrentThreadCpuTime();
                    if (which == 0) {
                        oneAtATime(bundle, pipeline, codes, text);
                    } else {
                        batched(pipeline, codes, text);
                    }
                    cpu[which][r] = (THREADS.getCurrentThreadCpuTime() - c0) / 1e9;
                    wall[which][r] = (System.nanoTime() - w0) / 1e9;
                }
            }
            out.printf("bench stages: decode + rerank of %d images, bundle %s, median of %d interleaved repetitions%n",
                    images, bundleDir, repeat);
            out.printf("%-26s %9s %9s %9s%n", "path", "cpu s", "wall s", "speedup");
            double base = median(cpu[0]);
            out.printf("%-26s %9.3f %9.3f %8.2fx%n", "one image per pass", base, median(wall[0]), 1.0);
            out.printf("%-26s %9.3f %9.3f %8.2fx%n", "pipeline (" + Pipeline.DECODE_BATCH + " per pass)", median(cpu[1]),
                    median(wall[1]), base / median(cpu[1]));
        }
        return 0;
    }

    private static void batched(Pipeline pipeline, List<int[]> codes, int[] text) {
        pipeline.score(text, pipeline.decode(codes, Pipeline.Progress.NONE), Pipeline.Progress.NONE);
    }

    /** The stages as they ran before batching: one image per forward pass. */
    private static void oneAtATime(ModelBundle bundle, Pipeline pipeline, List<int[]> codes, int[] text) {
        int cells = codes.get(0).length;
        int[] clipText = Arrays.copyOf(text, bundle.clip().config().textLength());
        for (int[] c : codes) {
            try (NDManager step = bundle.manager().newSubManager()) {
                long[] flat = new long[cells];
                for (int j = 0; j < cells; j++) {
                    flat[j] = c[j];
                }
                RgbImage image = RgbImage.unstack(bundle.dvae().decode(step.create(flat, new Shape(1, cells)))).get(0);
                NDArray ids = step.create(clipText, new Shape(1, clipText.length));
                NDArray pixels = RgbImage.stack(step, List.of(image.quantized8()));
                bundle.clip().logits(bundle.clip().encodeImage(pixels), bundle.clip().encodeText(ids)).toFloatArray();
            }
        }
    }

    private static double median(double[] values) {
        double[] t = values.clone();
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
