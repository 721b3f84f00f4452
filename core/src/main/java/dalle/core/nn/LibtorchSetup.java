package dalle.core.nn;

import ai.djl.engine.Engine;
import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide libtorch settings that DJL does not expose, applied once per process before the first convolution:
 * every {@link Conv2d} constructor calls {@link #apply()}. Today there is one, NNPACK.
 *
 * <p><b>NNPACK.</b> Choosing a CPU convolution algorithm, libtorch 2.7.1 asks NNPACK whether it can run whenever
 * oneDNN is not picked (batch 1 with small images: our decoding and reranking). Where NNPACK cannot initialise,
 * {@code at::native::init_nnpack} caches {@code nnp_initialize}'s failure but logs "Could not initialize NNPACK!
 * Reason: Unsupported hardware." on every call: one line per such convolution, 14,933 lines in one run of core's
 * tests. NNPACK's {@code nnp_initialize} refuses a CPU unless cpuinfo finds an L1 data, an L2 and an L3 cache and the
 * CPU has AVX2 and FMA3 (NNPACK {@code src/init.c}); virtual machines often hide the caches. So, once:
 * <ol>
 *   <li>ask the cpuinfo that NNPACK itself uses (libc10 exports it) for those three caches. If one is missing, NNPACK
 *       cannot initialise: switch it off in libtorch's context ({@code at::Context::setUserEnabledNNPACK(false)}),
 *       which libtorch checks before it asks NNPACK. No line at all.
 *   <li>Otherwise ask NNPACK ({@code at::native::_nnpack_available()}, which logs the line once if the answer is no)
 *       and switch it off if it says no. At most one line.
 * </ol>
 * Where NNPACK can run it stays on. Nothing else is silenced (no log level, no stderr filter): every other native
 * warning reaches stderr as before. The native calls go through JNA to symbols of the libtorch that DJL has already
 * loaded (opened with {@code RTLD_NOLOAD}, so a second copy is never loaded); if any is missing (another libtorch
 * build) NNPACK is left as it is and a warning says why.
 */
public final class LibtorchSetup {

    private static final Logger LOG = LoggerFactory.getLogger(LibtorchSetup.class);

    /** glibc's {@code RTLD_LAZY | RTLD_NOLOAD}: open a library only if the process already has it. */
    private static final int ALREADY_LOADED = 0x0001 | 0x0004;

    /** What {@link #apply()} did about NNPACK in this process. */
    public enum Nnpack {
        /** NNPACK initialised; left on. */
        AVAILABLE,
        /** cpuinfo sees no L1 data, L2 or L3 cache, so NNPACK cannot initialise; switched off before it was asked. */
        OFF_CACHES_NOT_VISIBLE,
        /** NNPACK was asked and could not initialise (it logged that once); switched off. */
        OFF_REFUSED,
        /** The libtorch symbols were not found; NNPACK left as libtorch has it (see the warning logged). */
        NOT_CONFIGURED
    }

    private LibtorchSetup() {}

    /** Applies the settings if this process has not yet (cheap after the first call); returns what it did. */
    public static Nnpack apply() {
        return Once.NNPACK;
    }

    /** Class initialisation runs this exactly once per process, whichever thread gets here first. */
    private static final class Once {
        static final Nnpack NNPACK = configureNnpack();
    }

    private static Nnpack configureNnpack() {
        Engine.getEngine("PyTorch"); // loads libtorch if nothing has yet
        try {
            NativeLibrary c10 = loaded("libc10.so");
            NativeLibrary torch = loaded("libtorch_cpu.so");
            Pointer context = torch.getFunction("_ZN2at13globalContextEv").invokePointer(new Object[0]);
            Function setUserEnabledNnpack = torch.getFunction("_ZN2at7Context20setUserEnabledNNPACKEb");
            Nnpack decision;
            if (!cachesVisible(c10)) {
                decision = Nnpack.OFF_CACHES_NOT_VISIBLE;
            } else if (!bool(torch.getFunction("_ZN2at6native17_nnpack_availableEv").invokeInt(new Object[0]))) {
                decision = Nnpack.OFF_REFUSED;
            } else {
                decision = Nnpack.AVAILABLE;
            }
            if (decision != Nnpack.AVAILABLE) {
                setUserEnabledNnpack.invokeVoid(new Object[] {context, (byte) 0});
            }
            LOG.debug("libtorch NNPACK: {}", decision);
            return decision;
        } catch (UnsatisfiedLinkError | IOException e) {
            LOG.warn("libtorch NNPACK left as it is, so libtorch may log 'Could not initialize NNPACK!' at every "
                    + "convolution: {}", e.getMessage());
            return Nnpack.NOT_CONFIGURED;
        }
    }

    /** NNPACK's hardware test, the cache half of it: the caches it sizes its blocking by (NNPACK src/init.c). */
    private static boolean cachesVisible(NativeLibrary c10) {
        if (!bool(c10.getFunction("cpuinfo_initialize").invokeInt(new Object[0]))) {
            return false; // nnp_initialize fails too (it reports "out of memory")
        }
        for (String cache : List.of("cpuinfo_get_l1d_cache", "cpuinfo_get_l2_cache", "cpuinfo_get_l3_cache")) {
            Pointer info = c10.getFunction(cache).invokePointer(new Object[] {0});
            if (info == null || info.getInt(0) == 0) { // struct cpuinfo_cache starts with uint32_t size
                return false;
            }
        }
        return true;
    }

    /** The copy of {@code fileName} this process has loaded (found in its memory map), never a new one. */
    private static NativeLibrary loaded(String fileName) throws IOException {
        String suffix = "/" + fileName;
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.endsWith(suffix)) {
                return NativeLibrary.getInstance(line.substring(slash),
                        Map.of(Library.OPTION_OPEN_FLAGS, ALREADY_LOADED));
            }
        }
        throw new UnsatisfiedLinkError(fileName + " is not loaded in this process (no libtorch from DJL's cache?)");
    }

    /** A C++ {@code bool} returned in a register: only the low byte is defined. */
    private static boolean bool(int register) {
        return (register & 0xff) != 0;
    }
}
