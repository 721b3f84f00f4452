package dalle.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.util.cuda.CudaUtils;
import java.io.IOException;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the benchmarks run and how much memory they hold: the engine's default device (a GPU when CUDA libtorch and
 * a GPU are there, as in the {@code -gpu} images and {@code tools/bench-gpu.sh}), the device memory in use on a GPU,
 * and this process's peak resident memory.
 */
final class BenchMemory {

    private BenchMemory() {
    }

    static Device device() {
        return Engine.getInstance().defaultDevice();
    }

    static boolean onGpu() {
        return device().isGpu();
    }

    /** For example {@code "gpu(0) 1,234 of 81,559 MiB in use; process peak RSS 2,345 MiB"}. */
    static String describe() {
        StringBuilder s = new StringBuilder();
        Device device = device();
        if (device.isGpu()) {
            MemoryUsage gpu = CudaUtils.getGpuMemory(device);
            s.append(String.format("%s %,d of %,d MiB in use (whole device); ", device, gpu.getUsed() >> 20, gpu.getMax() >> 20));
        }
        return s.append("process peak RSS ").append(peakRss()).toString();
    }

    /** VmHWM from /proc/self/status, or "unknown" where there is none. */
    static String peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format("%,d MiB", kb >> 10);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return "unknown";
    }
}
