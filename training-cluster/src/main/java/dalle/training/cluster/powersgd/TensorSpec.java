package dalle.training.cluster.powersgd;

import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One gradient tensor as the exchange sees it: its name, its parameter's role and its shape.
 *
 * @param name  the parameter's dotted name (also seeds its fixed random Q)
 * @param kind  the role, which decides whether it may be compressed
 * @param shape the gradient's shape; as a matrix it is {@code shape[0]} rows by the product of the rest
 */
public record TensorSpec(String name, Parameter.Kind kind, Shape shape) {

    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        if (shape.size() < 1) {
            throw new IllegalArgumentException("tensor " + name + " has no elements: " + shape);
        }
    }

    /** The specs of a module's parameters, in {@code parameters()} order. */
    public static List<TensorSpec> of(Map<String, Parameter> parameters) {
        List<TensorSpec> out = new ArrayList<>();
        parameters.forEach((n, p) -> out.add(new TensorSpec(n, p.kind(), p.array().getShape())));
        return out;
    }

    /** Number of elements. */
    public int size() {
        return Math.toIntExact(shape.size());
    }

    /** Rows of the matrix view: the first dimension (a 1-D tensor is one row). */
    public int rows() {
        return shape.dimension() == 1 ? 1 : Math.toIntExact(shape.get(0));
    }

    /** Columns of the matrix view: the product of the other dimensions (a conv kernel's in·kh·kw). */
    public int columns() {
        return size() / rows();
    }
}
