package dalle.core.dvae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An exponential moving average of a module's weights (the paper keeps one with decay 0.999 for
 * the dVAE): after each optimizer step, {@code avg ← decay · avg + (1 − decay) · w}.
 *
 * <p>The averages are fp32 copies on {@code manager}, keyed like {@link Module#parameters()}, so
 * they can be written as a checkpoint by {@link #copyInto copying} them into a second instance of
 * the same model. Nothing here depends on the dVAE.
 */
public final class WeightEma {

    /** The paper's dVAE decay. */
    public static final float PAPER_DECAY = 0.999f;

    private final Map<String, Parameter> params;
    private final Map<String, NDArray> averages = new LinkedHashMap<>();
    private final float decay;

    /** Starts the averages at the module's current weights. */
    public WeightEma(NDManager manager, Module module, float decay) {
        if (!(decay >= 0f && decay < 1f)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        }
        this.decay = decay;
        this.params = module.parameters();
        params.forEach((name, p) -> {
            NDArray copy = copyAs(p.array(), DataType.FLOAT32);
            copy.attach(manager);
            averages.put(name, copy);
        });
    }

    public float decay() {
        return decay;
    }

    /** Folds the module's current weights into the averages; call after each optimizer step. */
    public void update() {
        params.forEach((name, p) -> {
            NDArray avg = averages.get(name);
            try (NDArray w = copyAs(p.array(), avg.getDataType())) {
                avg.muli(decay).addi(w.muli(1f - decay));
            }
        });
    }

    /** The averaged weights by parameter name (live arrays: do not modify). */
    public Map<String, NDArray> averages() {
        return Collections.unmodifiableMap(averages);
    }

    /**
     * Overwrites {@code target}'s weights with fresh copies of the averages, for evaluation or saving
     * (target must have the same parameter names and shapes, e.g. a second instance built from the
     * same config). The replaced arrays are closed and the new ones do not require gradients.
     *
     * @throws IllegalArgumentException when a name is missing or a shape differs
     */
    public void copyInto(Module target) {
        Map<String, Parameter> out = target.parameters();
        if (!out.keySet().equals(averages.keySet())) {
            throw new IllegalArgumentException("target module has other parameters than the averaged one");
        }
        out.forEach((name, p) -> {
            NDArray old = p.array();
            NDArray value = copyAs(averages.get(name), old.getDataType());
            value.attach(old.getManager());
            p.set(value);
            old.close();
        });
    }

    /** A fresh array (never {@code a} itself: {@code toType(same type, copy=true)} returns {@code a} on PyTorch). */
    private static NDArray copyAs(NDArray a, DataType type) {
        return a.getDataType() == type ? a.duplicate() : a.toType(type, false);
    }
}
