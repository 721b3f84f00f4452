package dalle.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.sampling.ImageSampler;
import dalle.core.sampling.SamplingParams;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code dalle bench sampler}: the prior's sampling loop on a randomly initialised model, per preset,
 * batch size and {@link ImageSampler.Path}, as image tokens/s and achieved GFLOP/s, and that rate as a
 * fraction of two matmul ceilings measured in the same run at the same thread count: a square fp32
 * matmul (512³) and a matmul of the sampler's own MLP shape, (batch × C) · (C × 4C).
 *
 * <p>Interleaved: for each repetition the ceilings and every path are timed back to back (the paths'
 * order rotating), and each reports its median, so that load from other processes hits all alike.
 * On the CPU, rates are per second of this thread's CPU time (with one intra-op thread libtorch computes on
 * the calling thread), which a shared machine's other processes disturb far less than wall time; the
 * wall seconds are printed beside them. On a GPU (the engine's default device, CUDA libtorch), the calling
 * thread mostly waits for kernels, so rates are per wall second. After each preset the memory it used is
 * printed ({@link BenchMemory}).
 *
 * <p>FLOPs counted ({@link #sampleFlops}) are the multiply-adds (×2) of the forward passes the cached
 * paths run: per position and layer the QKV, output and MLP projections, 2·C²·(4 + 2r), plus the
 * attention scores and weighted sum against every key the dense kernels touch, 4·C·S (S = keys held);
 * plus the image head, 2·C·imageVocab, once per forward. The prefill of the Tt text slots is included:
 * it is work the sampler does for every candidate. Layer norms, GELU, softmax and sampling are not counted.
 */
final class SamplerBench {

    /** Side of the square fp32 matmul every bench compares with (also {@link StagesBench}'s). */
    static final int MATMUL_SIDE = 512;
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private final PrintWriter out;
    private final int repeat;
    private final int textVocab;

    SamplerBench(PrintWriter out, int repeat, int textVocab) {
        this.out = out;
        this.repeat = repeat;
        this.textVocab = textVocab;
    }

    static PriorConfig preset(String name, int textVocab) {
        return switch (name) {
            case "tiny" -> PriorConfig.tiny(textVocab, 0);
            case "small" -> PriorConfig.small(textVocab, 0);
            default -> throw new IllegalArgumentException("--preset: unknown or too large for a CPU bench: " + name
                    + " (known: tiny, small)");
        };
    }

    static ImageSampler.Path path(String name) {
        return switch (name) {
            case "recompute" -> ImageSampler.Path.RECOMPUTE;
            case "kv-cache" -> ImageSampler.Path.KV_CACHE;
            case "fast" -> ImageSampler.Path.FAST;
            default -> throw new IllegalArgumentException("--paths: unknown path " + name + " (known: recompute, kv-cache, fast)");
        };
    }

    /** FLOPs of sampling {@code rows} rows with a KV cache, as counted in the class comment. */
    static double sampleFlops(PriorConfig c, int rows) {
        double total = forwardFlops(c, 0, c.textLength());                     // prefill
        for (int k = 0; k + 1 < c.imageTokens(); k++) {
            total += forwardFlops(c, c.textLength() + k, 1);                   // image token k in, k + 1 out
        }
        return rows * total;
    }

    /** One row's forward of n positions after {@code start} held ones, with the image head on the last. */
    static double forwardFlops(PriorConfig c, int start, int n) {
        double width = c.width();
        double projections = 2.0 * width * width * (4 + 2 * c.mlpRatio()) * n;
        double attention = 0;
        for (int p = 0; p < n; p++) {
            attention += 4.0 * width * (start + n);                             // dense: every query against all S keys
        }
        return c.layers() * (projections + attention) + 2.0 * width * c.imageVocab();
    }

    int run(List<String> presets, List<Integer> batches, List<String> pathNames) {
        List<ImageSampler.Path> paths = pathNames.stream().map(SamplerBench::path).toList();
        for (int b : batches) {
            if (b < 1) {
                throw new IllegalArgumentException("--batch sizes must be positive, got " + b);
            }
        }
        out.printf("bench sampler: device %s, %d cpus, libtorch intra-op threads %s, median of %d interleaved repetitions, rates per %s second%n",
                BenchMemory.device(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("ai.djl.pytorch.num_threads", "default"), repeat, BenchMemory.onGpu() ? "wall" : "CPU");
        out.printf("ceilings in the same run: fp32 matmul %d^3, and gemm(B) = (batch x C)(C x 4C), the sampler's MLP shape%n",
                MATMUL_SIDE);
        out.printf("%-6s %5s %-9s %9s %9s %12s %9s %9s %7s %9s %7s %8s%n", "preset", "batch", "path", "wall s", "cpu s", "img tok/s",
                "GFLOP/s", "mm512", "ratio", "gemm(B)", "ratio", "vs " + pathNames.get(0));
        for (String name : presets) {
            PriorConfig config = preset(name, textVocab);
            try (NDManager manager = NDManager.newBaseManager()) {
                DallePrior prior = new DallePrior(manager, config, 1);
                ImageSampler sampler = new ImageSampler(prior);
                for (int batch : batches) {
                    runPoint(name, config, manager, sampler, batch, paths, pathNames);
                }
            }
            out.printf("memory after %s: %s%n", name, BenchMemory.describe());
        }
        return 0;
    }

    private void runPoint(String name, PriorConfig config, NDManager manager, ImageSampler sampler, int batch,
                          List<ImageSampler.Path> paths, List<String> pathNames) {
        List<ImageSampler.CandidateSpec> specs = specs(config, batch);
        for (ImageSampler.Path p : paths) {
            sampler.sample(specs.subList(0, 1), p); // warm-up: first-call allocations, kernel selection
        }
        double[][] seconds = new double[paths.size()][repeat];
        double[][] wall = new double[paths.size()][repeat];
        double[] square = new double[repeat];
        double[] shaped = new double[repeat];
        for (int r = 0; r < repeat; r++) {
            square[r] = matmulRate(manager, MATMUL_SIDE, MATMUL_SIDE, MATMUL_SIDE);
            shaped[r] = matmulRate(manager, batch, config.width(), config.mlpRatio() * config.width());
            for (int j = 0; j < paths.size(); j++) {
                int i = (j + r) % paths.size();                                 // rotate the order
                long w0 = System.nanoTime();
                long t0 = THREADS.getCurrentThreadCpuTime();
                sampler.sample(specs, paths.get(i));                              // returns codes in Java: synchronised
                wall[i][r] = (System.nanoTime() - w0) / 1e9;
                seconds[i][r] = BenchMemory.onGpu() ? wall[i][r] : (THREADS.getCurrentThreadCpuTime() - t0) / 1e9;
            }
        }
        double mm = median(square);
        double gemm = median(shaped);
        double flops = sampleFlops(config, batch);
        double tokens = (double) batch * config.imageTokens();
        double first = median(seconds[0]);
        for (int i = 0; i < paths.size(); i++) {
            double t = median(seconds[i]);
            double gflops = flops / t / 1e9;
            out.printf("%-6s %5d %-9s %9.3f %9.3f %12.1f %9.2f %9.2f %7.3f %9.2f %7.3f %7.2fx%n", name, batch, pathNames.get(i),
                    median(wall[i]), t,
                    tokens / t, gflops, mm, gflops / mm, gemm, gflops / gemm, first / t);
        }
        out.flush();
    }

    /**
     * GFLOP/s of (m × k) · (k × n) in fp32, repeated for at least 0.1 s: per CPU second of this thread on the CPU, per
     * wall second on a GPU, where every tenth product is read back (one float) so that queued kernels are counted.
     */
    static double matmulRate(NDManager parent, int m, int k, int n) {
        boolean gpu = BenchMemory.onGpu();
        try (NDManager scratch = parent.newSubManager()) {
            NDArray a = scratch.randomNormal(new Shape(m, k));
            NDArray b = scratch.randomNormal(new Shape(k, n));
            a.matMul(b).close();                                                // warm-up
            int iterations = 0;
            long t0 = gpu ? System.nanoTime() : THREADS.getCurrentThreadCpuTime();
            long elapsed;
            do {
                NDArray c = a.matMul(b);
                iterations++;
                if (gpu && iterations % 10 == 0) {
                    c.get(0, 0).getFloat();                                     // wait for the queue
                }
                c.close();
                elapsed = (gpu ? System.nanoTime() : THREADS.getCurrentThreadCpuTime()) - t0;
            } while (elapsed < 100_000_000L || (gpu && iterations % 10 != 0));
            return 2.0 * m * k * n * iterations / elapsed;
        }
    }

    private static List<ImageSampler.CandidateSpec> specs(PriorConfig config, int batch) {
        SplittableRandom rng = new SplittableRandom(7);
        int[] text = new int[config.textLength()];
        for (int i = 0; i < text.length; i++) {
            text[i] = i < 8 ? 1 + rng.nextInt(config.textVocab() - 1) : config.padTokenId();
        }
        List<ImageSampler.CandidateSpec> specs = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            specs.add(new ImageSampler.CandidateSpec(text, 42, i, SamplingParams.DEFAULT));
        }
        return specs;
    }

    /** The median (the upper one of an even count) of {@code values}, which it leaves unsorted. */
    static double median(double[] values) {
        double[] t = values.clone();
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
