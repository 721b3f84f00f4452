package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Multiplication and division by a constant that is safe under a {@code GradientCollector}.
 *
 * <p>Why not {@code x.mul(float)}: on the PyTorch engine, {@code mul(Number)} and {@code div(Number)}
 * wrap the number in a 0-d tensor whose memory is a Java direct buffer ({@code from_blob}), then
 * close it. Autograd keeps that tensor to compute the gradient, and once the JVM collects the
 * buffer the backward pass reads freed memory: wrong gradients or NaNs, sporadically (always, if a
 * GC runs between forward and backward). A constant made by {@code full} lives in memory that
 * libtorch owns and reference-counts, so autograd keeps it alive after the Java handle is closed.
 *
 * <p>The same holds for the in-place {@code muli(Number)} and for {@code maximum/minimum/pow(Number)}:
 * anywhere on a path that is differentiated, scale through this class (or use {@code clip}).
 */
public final class Scalars {

    private Scalars() {}

    /** {@code x · s}, same shape and dtype as {@code x}. */
    public static NDArray mul(NDArray x, float s) {
        try (NDArray c = x.getManager().full(new Shape(), s, x.getDataType())) {
            return x.mul(c);
        }
    }

    /** {@code x / s}, same shape and dtype as {@code x}. */
    public static NDArray div(NDArray x, float s) {
        try (NDArray c = x.getManager().full(new Shape(), s, x.getDataType())) {
            return x.div(c);
        }
    }
}
