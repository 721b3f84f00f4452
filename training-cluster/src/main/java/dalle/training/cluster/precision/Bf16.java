package dalle.training.cluster.precision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * bfloat16 emulated on fp32 storage: values are rounded to bf16's 8 significant bits (1 implicit +
 * 7 stored) with round-to-nearest-even on the fp32 bit pattern, exponent range unchanged.
 *
 * <p>Why emulate: on these CPUs DJL aborts the JVM as soon as a {@code BFLOAT16} array exists
 * (TOOLCHAIN.md), so bf16 numerics are tested by rounding fp32 values; real bf16 is for GPU pools.
 * Nothing here ever creates a {@code DataType.BFLOAT16} array.
 */
public final class Bf16 {

    private Bf16() {}

    /**
     * {@code x} rounded to the nearest bf16 value, ties to even; ±0, ±Inf stay as they are, NaN stays
     * NaN (quiet, sign kept), values beyond bf16's largest finite value (≈3.39e38) round to ±Inf.
     */
    public static float round(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7f800000) == 0x7f800000) {
            // Inf keeps its (zero) mantissa; a NaN must not round its mantissa away into an Inf
            return (bits & 0x007fffff) == 0 ? x : Float.intBitsToFloat((bits & 0xffff0000) | 0x00400000);
        }
        int lsb = (bits >>> 16) & 1;                 // ties go to the even neighbour
        return Float.intBitsToFloat((bits + 0x7fff + lsb) & 0xffff0000);
    }

    /** Rounds every element of {@code values} in place; returns it. */
    public static float[] roundInPlace(float[] values) {
        for (int i = 0; i < values.length; i++) {
            values[i] = round(values[i]);
        }
        return values;
    }

    /**
     * A new fp32 array on {@code manager} holding {@code x}'s values rounded to bf16 (through a
     * float[] round trip; outside any autograd graph).
     *
     * @throws IllegalArgumentException when {@code x} is not FLOAT32
     */
    public static NDArray round(NDArray x, NDManager manager) {
        if (x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("bf16 emulation rounds FLOAT32 arrays, not " + x.getDataType());
        }
        return manager.create(roundInPlace(x.toFloatArray()), x.getShape());
    }
}
