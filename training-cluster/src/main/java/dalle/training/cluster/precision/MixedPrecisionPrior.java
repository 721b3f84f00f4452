package dalle.training.cluster.precision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.core.nn.AdamW;
import dalle.core.nn.Gradients;
import dalle.core.nn.Parameter;
import dalle.core.nn.Scalars;
import dalle.core.transformer.AttentionMask;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorLoss;
import dalle.core.transformer.TransformerBlock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mixed-precision training of a {@link DallePrior} with the paper's per-resblock gradient scaling
 * (PAPER.md "Mixed precision").
 *
 * <p>Precision: the parameters are fp32 masters (AdamW and its moments stay fp32). For one
 * forward/backward pass every resblock parameter is replaced by a compute copy
 * ({@link ComputePrecision#toCompute}), a leaf of its own; afterwards the copy's gradient is
 * converted to fp32 and handed to the master (DJL's casts are not differentiable, so this is the
 * classic copy-gradients-to-master step, done as one more backward pass). Each branch computes in the compute format on a
 * compute-format copy of its input and its output is converted to fp32 before it joins the fp32
 * identity path. Embeddings, the final layer norm and the unembedding (logits, loss) stay fp32.
 * Gains and biases of the resblocks are stored, updated and receive gradients in fp32 too; inside
 * the branch they enter the ops in the compute format, because a DJL layer norm or linear needs one
 * dtype for its operands.
 *
 * <p>Resblocks: each residual branch is one resblock with its own scale, the attention branch and
 * the MLP branch of every {@link TransformerBlock}: 2L resblocks, named
 * {@code blocks.<i>.attn} and {@code blocks.<i>.mlp}, whose parameters are {@code ln1.*, attn.*}
 * and {@code ln2.*, mlp.*} respectively.
 *
 * <p>Mechanism. DJL has no backward hooks and no custom autograd, so the gradient between resblocks
 * cannot be scaled or filtered inside one backward pass. Instead the graph is cut at every branch
 * input (TOOLCHAIN.md: a cut works and gives the same gradients as one full backward):
 * <pre>
 *   forward:  x_0 = cut(embeddings)                              cut: stopGradient, then a leaf with a gradient
 *             for each resblock u: c_u = leaf(compute(x_u)); f_u = branch_u(c_u)     compute format
 *                                  x_{u+1} = cut(x_u + fp32(f_u))                     fp32 identity path
 *             loss = head(x_U)                                    fp32
 *   backward: backward(loss);  g = ∂loss/∂x_U                      unscaled: the head is fp32
 *             for u = U−1 .. 0:
 *                 backward(sum(f_u · compute(s_u·g)))              gradient entering the branch × s_u (may overflow)
 *                 h = fp32(∂/∂c_u)                                  = s_u · J_uᵀ g, leaving the branch
 *                 g = g + filter(h) / s_u                          Inf/NaN set to 0, unscaled, joins the identity path
 *             backward(sum(embeddings · g))
 * </pre>
 * Each resblock's parameter gradients come out multiplied by s_u; they are divided by s_u and
 * checked for Inf/NaN per resblock afterwards. {@link ResblockGradScaler} then decides: skip the
 * update and shrink the overflowing resblocks' scales, or apply it and grow every scale. In fp32 the
 * gradients equal those of one ordinary backward pass (up to rounding of the scale).
 *
 * <p>Memory: the cut activations of all resblocks are kept until the backward pass is done, as an
 * ordinary backward would keep them. One instance per model; not thread-safe.
 */
public final class MixedPrecisionPrior {

    private final DallePrior prior;
    private final ComputePrecision precision;
    private final ResblockGradScaler scaler;
    private final List<String> names = new ArrayList<>();
    private final List<List<Parameter>> resblockParams = new ArrayList<>();
    private final List<Parameter> rest = new ArrayList<>();
    private final List<Parameter> all;

    /**
     * @param scaler one scale per resblock: {@code 2 · layers} of them
     * @throws IllegalArgumentException when the scaler has another number of scales
     */
    public MixedPrecisionPrior(DallePrior prior, ComputePrecision precision, ResblockGradScaler scaler) {
        int layers = prior.config().layers();
        if (scaler.resblocks() != resblocks(layers)) {
            throw new IllegalArgumentException("the scaler has " + scaler.resblocks() + " scales, the prior "
                    + resblocks(layers) + " resblocks (2 per layer)");
        }
        this.prior = prior;
        this.precision = precision;
        this.scaler = scaler;
        for (int i = 0; i < layers; i++) {
            names.add("blocks." + i + ".attn");
            names.add("blocks." + i + ".mlp");
            resblockParams.add(new ArrayList<>());
            resblockParams.add(new ArrayList<>());
        }
        prior.parameters().forEach((name, p) -> {
            int u = resblockOf(name);
            (u < 0 ? rest : resblockParams.get(u)).add(p);
        });
        all = List.copyOf(prior.parameters().values());
    }

    /** The number of resblocks (scales) of a prior with {@code layers} layers: two per layer. */
    public static int resblocks(int layers) {
        return 2 * layers;
    }

    /** Resblock u's parameters are under {@code blocks.<u/2>.} in {@code ln1, attn} (u even) or {@code ln2, mlp}. */
    private static int resblockOf(String name) {
        if (!name.startsWith("blocks.")) {
            return -1;
        }
        String[] parts = name.split("\\.");
        int layer = Integer.parseInt(parts[1]);
        return switch (parts[2]) {
            case "ln1", "attn" -> 2 * layer;
            case "ln2", "mlp" -> 2 * layer + 1;
            default -> throw new IllegalStateException("parameter " + name + " belongs to no branch of its block");
        };
    }

    /** Resblock names by index: {@code blocks.0.attn, blocks.0.mlp, blocks.1.attn, ...}. */
    public List<String> resblockNames() {
        return List.copyOf(names);
    }

    public ResblockGradScaler scaler() {
        return scaler;
    }

    public ComputePrecision precision() {
        return precision;
    }

    /**
     * What one forward/backward pass left on the parameters.
     *
     * @param loss           the total loss (nats per token, fp32)
     * @param text           its caption part (nats per text token)
     * @param image          its image part (nats per image token)
     * @param resblockFinite per resblock: were its (unscaled) parameter gradients all finite
     * @param restFinite     were the embeddings' and the head's gradients finite
     */
    public record Backward(float loss, float text, float image, boolean[] resblockFinite, boolean restFinite) {
    }

    /**
     * One update's outcome.
     *
     * @param loss     the loss of the batch before the update
     * @param decision the scaler's decision (applied or skipped, scales shrunk)
     */
    public record Update(float loss, ResblockGradScaler.Decision decision) {
    }

    /**
     * Forward and per-resblock scaled backward pass on text (B, Tt) and image (B, Ti) int arrays.
     * Afterwards every parameter holds its true (unscaled) fp32 gradient, which replaces any earlier one.
     * Temporaries go to a sub-manager of the prior's manager, closed before returning.
     */
    public Backward lossAndGradients(NDArray text, NDArray image, BranchGradientTap tap) {
        return lossAndGradients(text, image, tap, scaler::scale);
    }

    private Backward lossAndGradients(NDArray text, NDArray image, BranchGradientTap tap, IntToFloat scaleOf) {
        Gradients.zero(all);
        NDManager base = prior.manager();
        float[] loss;
        try (NDManager scope = base.newSubManager()) {
            Map<Parameter, NDArray> masters = new LinkedHashMap<>();
            for (List<Parameter> ps : resblockParams) {
                for (Parameter p : ps) {
                    masters.put(p, p.array());
                }
            }
            try {
                if (precision.converts()) {
                    masters.forEach((p, master) -> p.set(leaf(precision.toCompute(master, scope))));
                }
                try (GradientCollector gc = base.getEngine().newGradientCollector()) {
                    loss = forwardBackward(text, image, scope, gc, tap, scaleOf);
                    if (precision.converts()) {
                        gc.backward(toMasters(masters, scope));
                    }
                }
            } finally {
                masters.forEach(Parameter::set);
            }
        }
        boolean[] finite = new boolean[names.size()];
        for (int u = 0; u < finite.length; u++) {
            finite[u] = unscaleAndCheck(resblockParams.get(u), scaleOf.at(u));
        }
        return new Backward(loss[0], loss[1], loss[2], finite, unscaleAndCheck(rest, 1f));
    }

    /**
     * One training update: {@link #lossAndGradients}, the scaler's rules, then AdamW at {@code lr} or a
     * skipped update (gradients cleared).
     */
    public Update step(NDArray text, NDArray image, AdamW optimizer, float lr, BranchGradientTap tap) {
        Backward g = lossAndGradients(text, image, tap);
        ResblockGradScaler.Decision d = scaler.update(g.resblockFinite(), g.restFinite());
        if (d.apply()) {
            optimizer.step(lr);
        } else {
            optimizer.zeroGradients();
        }
        return new Update(g.loss(), d);
    }

    /**
     * One update with standard dynamic loss scaling instead (the paper's point of comparison): every
     * resblock's gradient is scaled by the one global scale and unscaled on leaving it, the update is
     * skipped when any gradient is not finite, and {@code global}'s rules adapt the scale. The
     * per-resblock scaler is neither read nor changed. (With the fp32 identity path, scaling each
     * branch by S equals scaling the loss by S everywhere fp16 is used.)
     *
     * @return the loss, and a decision whose {@code shrunk} is empty: there is one scale
     */
    public Update stepWithLossScaler(NDArray text, NDArray image, AdamW optimizer, float lr,
                                     DynamicLossScaler global, BranchGradientTap tap) {
        float s = global.scale();
        Backward g = lossAndGradients(text, image, tap, u -> s);
        boolean finite = g.restFinite();
        for (boolean f : g.resblockFinite()) {
            finite &= f;
        }
        boolean apply = global.update(finite);
        if (apply) {
            optimizer.step(lr);
        } else {
            optimizer.zeroGradients();
        }
        return new Update(g.loss(), new ResblockGradScaler.Decision(apply, new int[0]));
    }

    /** The scale of resblock u for one pass. */
    @FunctionalInterface
    private interface IntToFloat {
        float at(int u);
    }

    /** Returns the total, text and image losses. */
    private float[] forwardBackward(NDArray text, NDArray image, NDManager scope, GradientCollector gc,
                                  BranchGradientTap tap, IntToFloat scaleOf) {
        NDArray embeddings = prior.embedStream(text, image);                    // (B, N, C) fp32
        int n = Math.toIntExact(embeddings.getShape().get(1));
        Map<AttentionMask.Type, NDArray> masks = new EnumMap<>(AttentionMask.Type.class);
        List<NDArray> inputs = new ArrayList<>();                               // c_u, compute format
        List<NDArray> branches = new ArrayList<>();                             // f_u, compute format
        NDArray x = cut(embeddings, scope);
        for (TransformerBlock block : prior.blocks()) {
            NDArray mask = masks.computeIfAbsent(block.maskType(),
                    t -> prior.masks().rows(t, 0, n, precision.computeType(), scope));
            NDArray c = computeInput(x, scope);
            NDArray f = block.attentionBranch(c, mask, null, 0);
            inputs.add(c);
            branches.add(f);
            x = cut(x.add(precision.toFp32(f, scope)), scope);
            c = computeInput(x, scope);
            f = block.mlpBranch(c);
            inputs.add(c);
            branches.add(f);
            x = cut(x.add(precision.toFp32(f, scope)), scope);
        }
        PriorLoss loss = prior.lossFromHidden(x, text, image);
        gc.backward(loss.total());
        NDArray g = gradientOf(x, scope);                                       // ∂loss/∂x_U, fp32
        for (int u = branches.size() - 1; u >= 0; u--) {
            float s = scaleOf.at(u);
            NDArray incoming = tap.apply(u, precision.toCompute(Scalars.mul(g, s), scope));
            gc.backward(branches.get(u).mul(incoming).sum());
            NDArray h = precision.toFp32(gradientOf(inputs.get(u), scope), scope); // s · J_uᵀ g
            NDArray filtered = NDArrays.where(h.isNaN().logicalOr(h.isInfinite()), h.zerosLike(), h);
            g = g.add(Scalars.div(filtered, s));
        }
        gc.backward(embeddings.mul(g).sum());
        return new float[] {loss.total().getFloat(), loss.text().getFloat(), loss.image().getFloat()};
    }

    /** The branch input: the cut itself in fp32, else a compute-format copy that is a leaf of its own. */
    private NDArray computeInput(NDArray x, NDManager scope) {
        return precision.converts() ? leaf(precision.toCompute(x, scope)) : x;
    }

    /** x with its history cut off, as a new leaf that collects a gradient. */
    private static NDArray cut(NDArray x, NDManager scope) {
        NDArray leaf = x.stopGradient();
        leaf.attach(scope);
        leaf.setRequiresGradient(true);
        return leaf;
    }

    /** A fresh array (outside any graph) made a leaf that collects a gradient. */
    private static NDArray leaf(NDArray fresh) {
        fresh.setRequiresGradient(true);
        return fresh;
    }

    private static NDArray gradientOf(NDArray leaf, NDManager scope) {
        NDArray g = leaf.getGradient();
        g.attach(scope);
        return g;
    }

    /**
     * Σ ⟨master, fp32(gradient of its compute copy)⟩: back-propagating it gives each master its copy's
     * gradient in fp32. Why a backward pass and not a write into the master's gradient: a parameter
     * that has never been back-propagated into has no gradient tensor yet, and DJL's
     * {@code getGradient()} then hands out a detached zero array, so a write would be lost.
     */
    private NDArray toMasters(Map<Parameter, NDArray> masters, NDManager scope) {
        NDArray total = null;
        for (Map.Entry<Parameter, NDArray> e : masters.entrySet()) {
            NDArray g = precision.toFp32(gradientOf(e.getKey().array(), scope), scope);
            NDArray product = e.getValue().mul(g);             // lands on the master's manager: move it
            product.attach(scope);
            NDArray term = product.sum();
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    /** Divides each parameter's gradient by {@code scale} in place; true when all of them are finite. */
    private static boolean unscaleAndCheck(List<Parameter> params, float scale) {
        boolean finite = true;
        for (Parameter p : params) {
            try (NDManager tmp = p.array().getManager().newSubManager()) {
                NDArray g = p.array().getGradient();
                g.attach(tmp);
                if (scale != 1f) {
                    g.divi(scale);
                }
                finite &= !(g.isNaN().any().getBoolean() || g.isInfinite().any().getBoolean());
            }
        }
        return finite;
    }
}
