package dalle.core.nn;

/** Test helper: one number per parameter (the L1 norm of its gradient), to compare two backward passes. */
public final class GradientSums {

    private GradientSums() {}

    public static float[] of(Module model) {
        java.util.Collection<Parameter> params = model.parameters().values();
        float[] out = new float[params.size()];
        int i = 0;
        for (Parameter p : params) {
            out[i++] = p.array().getGradient().abs().sum().getFloat();
        }
        return out;
    }
}
