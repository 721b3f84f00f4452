package dalle.training.cluster.precision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * The number format of the resblocks' compute (PAPER.md "Mixed precision": fp16 activations and
 * weights in the resblocks; fp32 masters, fp32 identity path, fp32 embeddings and head).
 * <ul>
 *   <li>{@link #FP32}: no conversion (the reference);</li>
 *   <li>{@link #FP16}: DJL FLOAT16. Correct but very slow on these CPUs (TOOLCHAIN.md), so only for
 *       small presets here;</li>
 *   <li>{@link #BF16_EMULATED}: fp32 storage rounded to bf16 precision ({@link Bf16}) wherever a value
 *       crosses into the resblock (weights, branch inputs, incoming gradients); the arithmetic inside
 *       a branch stays fp32, as bf16 hardware accumulates in fp32 anyway, but its intermediate
 *       activations are not rounded. DJL's BFLOAT16 would abort the JVM on these CPUs; real bf16 is
 *       for GPU pools.</li>
 * </ul>
 * DJL's {@code toType} is not recorded by autograd, so conversions are never differentiated through:
 * {@link MixedPrecisionPrior} makes compute copies as leaves of their own and carries their
 * gradients back to fp32 by hand, as classic mixed-precision training copies fp16 gradients to fp32
 * masters.
 */
public enum ComputePrecision {

    FP32(DataType.FLOAT32),
    FP16(DataType.FLOAT16),
    BF16_EMULATED(DataType.FLOAT32);

    private final DataType computeType;

    ComputePrecision(DataType computeType) {
        this.computeType = computeType;
    }

    /** The DJL type the resblocks compute in (masks are made in it). */
    public DataType computeType() {
        return computeType;
    }

    /** Whether compute values differ from fp32 ones (false for {@link #FP32}, where no copy is made). */
    public boolean converts() {
        return this != FP32;
    }

    /**
     * An fp32 array's value in the compute format, a new array on {@code scope} outside any autograd
     * graph ({@code x} itself for {@link #FP32}).
     */
    public NDArray toCompute(NDArray x, NDManager scope) {
        return switch (this) {
            case FP32 -> x;
            case FP16 -> attach(x.toType(DataType.FLOAT16, true), scope);
            case BF16_EMULATED -> Bf16.round(x, scope);
        };
    }

    /** A compute-format array's value in fp32, on {@code scope} ({@code x} itself when it is already fp32). */
    public NDArray toFp32(NDArray x, NDManager scope) {
        return x.getDataType() == DataType.FLOAT32 ? x : attach(x.toType(DataType.FLOAT32, true), scope);
    }

    private static NDArray attach(NDArray a, NDManager scope) {
        a.attach(scope);
        return a;
    }
}
