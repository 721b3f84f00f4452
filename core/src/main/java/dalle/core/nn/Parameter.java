package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import java.util.Objects;

/**
 * One trainable tensor of a {@link Module}: its checkpoint name, its role, and its value.
 *
 * <p>The role matters to training: PAPER.md keeps embeddings, gains, biases and the
 * unembedding in fp32 and never compresses them with PowerSGD, and weight decay applies
 * to weights only.
 */
public final class Parameter {

    /** What a parameter is for; decides precision, decay and compression in training. */
    public enum Kind {
        /** A matrix or convolution kernel of a resblock: decayed, may run in fp16, may be compressed. */
        WEIGHT,
        /** An additive bias. */
        BIAS,
        /** A multiplicative gain (layer-norm scale, learned temperature). */
        GAIN,
        /** A lookup table (token, position, padding embeddings). */
        EMBEDDING,
        /** The output projection to logits; kept in fp32. */
        UNEMBEDDING;

        /** Whether AdamW's weight decay applies. */
        public boolean decayed() {
            return this == WEIGHT || this == UNEMBEDDING;
        }
    }

    private final String name;
    private final Kind kind;
    private NDArray array;

    Parameter(String name, Kind kind, NDArray array) {
        this.name = Objects.requireNonNull(name, "name");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.array = Objects.requireNonNull(array, "array");
    }

    /** Local name inside its module (e.g. {@code weight}); the full name is the module path plus this. */
    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** The current value. Forward passes read it; optimizers replace it. */
    public NDArray array() {
        return array;
    }

    /**
     * Replaces the value (checkpoint load, optimizer step, sharding). The shape must not change.
     *
     * @throws IllegalArgumentException when the shape differs from the current one
     */
    public void set(NDArray value) {
        if (!value.getShape().equals(array.getShape())) {
            throw new IllegalArgumentException(
                    "parameter " + name + ": shape " + value.getShape() + " does not match " + array.getShape());
        }
        this.array = value;
    }

    public long size() {
        return array.size();
    }
}
