package dalle.core.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.FloatBuffer;

/**
 * Copies a decoding step's logits (R, imageVocab) out of libtorch as float32, into one array reused from step to
 * step while the row count stays the same. A fresh array per token step (128 KiB at batch 64) kept the JVM
 * touching new heap pages, which cost more on this machine than the copy itself. The array a call returns is
 * overwritten by the next call: draw from it before reading the next step.
 */
final class LogitReader {

    private float[] buffer = new float[0];

    float[] read(NDArray logits) {
        FloatBuffer values = logits.toType(DataType.FLOAT32, false).toByteBuffer().asFloatBuffer();
        if (buffer.length != values.remaining()) {
            buffer = new float[values.remaining()];
        }
        values.get(buffer);
        return buffer;
    }
}
