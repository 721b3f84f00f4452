package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tree of named parameters and named children, with forward passes written as plain
 * DJL {@link NDArray} operations.
 *
 * <p>Why not DJL's {@code AbstractBlock}: the models need things a block hides — per-request
 * decoding state (the KV cache) outside the model, block-by-block backward passes for
 * per-resblock gradient scaling, parameters swapped in and out for sharding, and weights
 * initialised from a Java-side seeded generator so that a seed means the same model on every
 * engine. So a module here is only the naming and ownership half of a block: children and
 * parameters get stable names that become checkpoint keys ({@code encoder.group1.block2.conv1.weight}),
 * and the forward pass is a method of the concrete class.
 *
 * <p>All parameter arrays live on the manager given at construction; closing that manager
 * frees the model.
 */
public abstract class Module {

    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();

    /** Registers a child under a stable name and returns it. */
    protected final <T extends Module> T child(String name, T module) {
        checkName(name);
        if (children.put(name, module) != null || parameters.containsKey(name)) {
            throw new IllegalStateException("duplicate child name: " + name);
        }
        return module;
    }

    /** Registers a parameter with the given initial value and returns it. */
    protected final Parameter parameter(String name, Parameter.Kind kind, NDArray init) {
        checkName(name);
        Parameter p = new Parameter(name, kind, init);
        if (parameters.put(name, p) != null || children.containsKey(name)) {
            throw new IllegalStateException("duplicate parameter name: " + name);
        }
        return p;
    }

    /** Every parameter of this module and its descendants, by dotted path, in registration order. */
    public final Map<String, Parameter> parameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    /** Direct children by name, in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collect(prefix + n + ".", out));
    }

    /** Total number of scalars over all parameters. */
    public final long parameterCount() {
        return parameters().values().stream().mapToLong(Parameter::size).sum();
    }

    /** Marks every parameter as (not) requiring a gradient. */
    public final void setRequiresGradient(boolean requires) {
        for (Parameter p : parameters().values()) {
            p.array().setRequiresGradient(requires);
        }
    }

    private static void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("module and parameter names must be non-empty and dot-free: " + name);
        }
    }

    // ---- initialisers: Java-side seeded randomness, so a seed gives the same weights everywhere ----

    /** Normal(0, std) values of the given shape on {@code manager}, drawn from {@code rng}. */
    public static NDArray normal(NDManager manager, SplittableRandom rng, float std, Shape shape) {
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (gaussian(rng) * std);
        }
        return manager.create(v, shape);
    }

    /** Box–Muller on a {@link SplittableRandom} (which has no nextGaussian on Java 17). */
    public static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
