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
 * {@code dalle bench stages}: decode + rerank of N images. The dVAE decodes one image per forward pass (as the
 * {@link Pipeline} does); the reranker is measured three ways on the same decoded images, interleaved, medians of
 * CPU and wall seconds: one image per forward pass (the reranker's {@code logits(encodeImage, encodeText)} on a
 * batch of one: the path before batching), every image beside a copy of itself (the batching rule's reference
 * arithmetic, unbatched), and the Pipeline's {@link Pipeline#score} (up to {@link Pipeline#SCORE_BATCH} images a
 * pass); ratios against the first.
 *
 * <p>Each path's achieved GFLOP/s (its floating-point operations from the bundle's configs,
 * {@link dalle.core.dvae.DvaeConfig#decoderFlopsPerImage}, {@link dalle.core.clip.ClipConfig#imageFlopsPerImage} and
 * {@link dalle.core.clip.ClipConfig#textFlops}, per CPU second) is compared with an fp32 512³ matmul measured on this
 * thread in the same run (the ceiling {@code dalle bench sampler} uses), and the last line gives the time decode +
 * rerank would take if they ran at that rate.
 */
final class StagesBench {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final String[] PATHS = {"rerank, one image per pass", "rerank, image beside a copy",
            "rerank, pipeline (2.." + Pipeline.SCORE_BATCH + "/pass)", "decode, one image per pass"};

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
            List<RgbImage> decoded = pipeline.decode(codes, Pipeline.Progress.NONE);
            List<Runnable> paths = List.of(
                    () -> scoreEach(bundle, text, decoded, false),
                    () -> scoreEach(bundle, text, decoded, true),
                    () -> pipeline.score(text, decoded, Pipeline.Progress.NONE),
                    () -> pipeline.decode(codes, Pipeline.Progress.NONE));
            paths.forEach(Runnable::run); // warm-up (and the batched stage's one-off check)
            double decodeFlops = bundle.dvae().config().decoderFlopsPerImage();
            double imageFlops = bundle.clip().config().imageFlopsPerImage();
            double textFlops = bundle.clip().config().textFlops(bundle.clip().config().textLength());
            int passes = (images + Pipeline.SCORE_BATCH - 1) / Pipeline.SCORE_BATCH;
            double[] work = {images * (imageFlops + textFlops), images * (2 * imageFlops + textFlops),
                    images * imageFlops + passes * textFlops, images * decodeFlops};
            int n = paths.size();
            double[] matmul = new double[repeat];
            double[][] cpu = new double[n][repeat];
            double[][] wall = new double[n][repeat];
            for (int r = 0; r < repeat; r++) {
                matmul[r] = SamplerBench.matmulRate(bundle.manager(), SamplerBench.MATMUL_SIDE,
                        SamplerBench.MATMUL_SIDE, SamplerBench.MATMUL_SIDE);
                for (int j = 0; j < n; j++) {
                    int which = (j + r) % n;
                    long w0 = System.nanoTime();
                    long c0 = THREADS.getCurrentThreadCpuTime();
                    paths.get(which).run();
                    cpu[which][r] = (THREADS.getCurrentThreadCpuTime() - c0) / 1e9;
                    wall[which][r] = (System.nanoTime() - w0) / 1e9;
                }
            }
            out.printf("bench stages: decode and rerank of %d images, bundle %s, median of %d interleaved "
                    + "repetitions%n", images, bundleDir, repeat);
            double mm = SamplerBench.median(matmul); // GFLOP/s
            out.printf("work from the bundle's configs: decode %.1f MFLOP an image; rerank %.1f MFLOP an image + %.1f "
                    + "a caption; fp32 matmul %d^3 on this thread, same run: %.1f GFLOP/s%n", decodeFlops / 1e6,
                    imageFlops / 1e6, textFlops / 1e6, SamplerBench.MATMUL_SIDE, mm);
            out.printf("%-34s %9s %9s %9s %9s %8s%n", "path", "cpu s", "wall s", "speedup", "GFLOP/s", "/ mm512");
            double[] seconds = new double[n];                                   // median CPU seconds per path
            for (int j = 0; j < n; j++) {
                seconds[j] = SamplerBench.median(cpu[j]);
            }
            for (int j = 0; j < n; j++) {
                double gflops = work[j] / seconds[j] / 1e9;
                out.printf("%-34s %9.3f %9.3f %8s %9.1f %8.2f%n", PATHS[j], seconds[j], SamplerBench.median(wall[j]),
                        j < 3 ? String.format("%.2fx", seconds[0] / seconds[j]) : "", gflops, gflops / mm);
            }
            out.printf("rerank batched / one image per pass (cpu): %.2fx faster; decode + rerank of %d images: "
                    + "%.3f s -> %.3f s cpu%n", seconds[0] / seconds[2], images, seconds[3] + seconds[0],
                    seconds[3] + seconds[2]);
            out.printf("decode + rerank of %d images at the matmul's rate would take %.3f s cpu (%.1f GFLOP)%n", images,
                    (work[3] + work[2]) / 1e9 / mm, (work[3] + work[2]) / 1e9);
        }
        return 0;
    }

    /**
     * Scores one image per forward pass through the reranker's own methods, as before batching ({@code pair}
     * false), or each image beside a copy of itself ({@code pair} true: the batching rule's reference).
     */
    private static void scoreEach(ModelBundle bundle, int[] text, List<RgbImage> images, boolean pair) {
        int[] clipText = Arrays.copyOf(text, bundle.clip().config().textLength());
        for (RgbImage image : images) {
            try (NDManager step = bundle.manager().newSubManager()) {
                RgbImage q = image.quantized8();
                NDArray pixels = RgbImage.stack(step, pair ? List.of(q, q) : List.of(q));
                if (pair) {
                    bundle.clip().score(clipText, pixels);
                } else {
                    NDArray ids = step.create(clipText, new Shape(1, clipText.length));
                    bundle.clip().logits(bundle.clip().encodeImage(pixels), bundle.clip().encodeText(ids))
                            .toFloatArray();
                }
            }
        }
    }

}
