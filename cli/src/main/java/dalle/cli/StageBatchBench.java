package dalle.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.clip.ClipConfig;
import dalle.core.clip.ContrastiveScorer;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code dalle bench stage-batches}: images/s of the decoder's and the reranker's forward passes as a function of the
 * batch size, on randomly initialised models (speed does not depend on the weights): one dVAE decode of B code grids,
 * and one reranker pass over B decoded images and their caption (image tower, text tower, logits). This is the
 * throughput a GPU pool gives each stage at a batch size (the services decode and score one image per pass today, see
 * {@code dalle bench stages}); on a GPU it is what {@code tools/bench-gpu.sh} prints.
 *
 * <p>Presets: {@code tiny} (the shipped sizes: 64×64 images, 8×8 grid, K = 512) and {@code small} (128×128 images,
 * 16×16 grid, K = 2,048, a reranker twice as wide). Rates per CPU second of the calling thread on the CPU, per wall
 * second on a GPU; every pass ends by reading its result back, so queued kernels are counted. Memory after each preset:
 * {@link BenchMemory}.
 */
final class StageBatchBench {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int TEXT_VOCAB = 1024;

    private final PrintWriter out;
    private final int repeat;

    StageBatchBench(PrintWriter out, int repeat) {
        this.out = out;
        this.repeat = repeat;
    }

    record Preset(String name, DvaeConfig dvae, ClipConfig clip) {
    }

    static Preset preset(String name) {
        return switch (name) {
            case "tiny" -> new Preset(name, DvaeConfig.tiny(), ClipConfig.tiny(TEXT_VOCAB, 0));
            case "small" -> new Preset(name, DvaeConfig.small(), new ClipConfig(TEXT_VOCAB, 64, 0, 128, 256, 4, 4, 64, 256, true));
            default -> throw new IllegalArgumentException("--preset: unknown preset for stage-batches: " + name
                    + " (known: tiny, small)");
        };
    }

    int run(List<String> presets, List<Integer> batches) {
        for (int b : batches) {
            if (b < 1) {
                throw new IllegalArgumentException("--batch sizes must be positive, got " + b);
            }
        }
        boolean gpu = BenchMemory.onGpu();
        out.printf("bench stage-batches: device %s, libtorch intra-op threads %s, median of %d repetitions, rates per %s second%n",
                BenchMemory.device(), System.getProperty("ai.djl.pytorch.num_threads", "default"), repeat, gpu ? "wall" : "CPU");
        out.printf("%-6s %5s %12s %12s %14s %14s%n", "preset", "batch", "decode s", "rerank s", "decode img/s", "rerank img/s");
        for (String name : presets) {
            Preset p = preset(name);
            try (NDManager manager = NDManager.newBaseManager()) {
                Dvae dvae = new Dvae(manager, p.dvae(), 1);
                ContrastiveScorer clip = new ContrastiveScorer(manager, p.clip(), 1);
                for (int batch : batches) {
                    runPoint(p, manager, dvae, clip, batch, gpu);
                }
            }
            out.printf("memory after %s: %s%n", name, BenchMemory.describe());
            out.flush();
        }
        return 0;
    }

    private void runPoint(Preset p, NDManager manager, Dvae dvae, ContrastiveScorer clip, int batch, boolean gpu) {
        SplittableRandom rng = new SplittableRandom(batch);
        long[] codes = rng.longs((long) batch * p.dvae().tokens(), 0, p.dvae().codebookSize()).toArray();
        int[] caption = new int[p.clip().textLength()];
        for (int i = 0; i < 8; i++) {
            caption[i] = 1 + rng.nextInt(TEXT_VOCAB - 1);
        }
        double[] decodeSeconds = new double[repeat];
        double[] rerankSeconds = new double[repeat];
        for (int r = -1; r < repeat; r++) {                                    // r = -1: warm-up
            try (NDManager step = manager.newSubManager()) {
                long[] t0 = now();
                NDArray pixels = dvae.decode(step.create(codes, new Shape(batch, p.dvae().tokens())));
                pixels.get(0, 0, 0, 0).getFloat();                             // wait for the device
                long[] t1 = now();
                NDArray ids = step.create(caption, new Shape(1, caption.length));
                clip.logits(clip.encodeText(ids), clip.encodeImage(pixels)).toFloatArray();
                long[] t2 = now();
                if (r >= 0) {
                    decodeSeconds[r] = seconds(t0, t1, gpu);
                    rerankSeconds[r] = seconds(t1, t2, gpu);
                }
            }
        }
        double decode = SamplerBench.median(decodeSeconds);
        double rerank = SamplerBench.median(rerankSeconds);
        out.printf("%-6s %5d %12.4f %12.4f %14.1f %14.1f%n", p.name(), batch, decode, rerank, batch / decode, batch / rerank);
        out.flush();
    }

    private static long[] now() {
        return new long[] {System.nanoTime(), THREADS.getCurrentThreadCpuTime()};
    }

    private static double seconds(long[] from, long[] to, boolean gpu) {
        return (gpu ? to[0] - from[0] : to[1] - from[1]) / 1e9;
    }

}
