package dalle.training.cluster.shard;

import dalle.core.nn.Parameter;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The parameter arrays of {@code new DallePrior(manager, config, seed)} — names, roles and shapes —
 * listed from the config alone, so that the paper's 12B model can be planned without allocating it.
 * A test checks the list against a real (tiny) prior.
 */
public final class PriorTensors {

    private PriorTensors() {}

    /**
     * One parameter array: {@code rows × cols} as stored (PyTorch's (out, in) for a linear weight;
     * a vector has {@code cols = 1}).
     */
    public record Tensor(String name, Parameter.Kind kind, long rows, long cols) {

        public long size() {
            return rows * cols;
        }

        /** A resblock matrix: the only gradients PowerSGD compresses and the only fp16 weights (PAPER.md). */
        public boolean resblockMatrix() {
            return kind == Parameter.Kind.WEIGHT && rows > 1 && cols > 1;
        }
    }

    /** Every parameter of the prior, in {@code Module.parameters()} order. */
    public static List<Tensor> of(PriorConfig c) {
        long d = c.width();
        long hidden = (long) c.mlpRatio() * d;
        List<Tensor> out = new ArrayList<>();
        embedding(out, "text_embedding", c.textVocab(), d);
        embedding(out, "text_position", c.textLength(), d);
        embedding(out, "text_padding", c.textLength(), d);
        embedding(out, "image_embedding", c.imageVocab(), d);
        embedding(out, "image_row", c.gridSize(), d);
        embedding(out, "image_column", c.gridSize(), d);
        for (int i = 0; i < c.layers(); i++) {
            String b = "blocks." + i + ".";
            layerNorm(out, b + "ln1", d);
            linear(out, b + "attn.qkv", d, 3 * d);
            linear(out, b + "attn.proj", d, d);
            layerNorm(out, b + "ln2", d);
            linear(out, b + "mlp.fc", d, hidden);
            linear(out, b + "mlp.proj", hidden, d);
        }
        layerNorm(out, "final_ln", d);
        out.add(new Tensor("unembedding.weight", Parameter.Kind.UNEMBEDDING, c.vocabSize(), d));
        return out;
    }

    private static void embedding(List<Tensor> out, String name, long count, long d) {
        out.add(new Tensor(name + ".weight", Parameter.Kind.EMBEDDING, count, d));
    }

    private static void layerNorm(List<Tensor> out, String name, long d) {
        out.add(new Tensor(name + ".gain", Parameter.Kind.GAIN, d, 1));
        out.add(new Tensor(name + ".bias", Parameter.Kind.BIAS, d, 1));
    }

    private static void linear(List<Tensor> out, String name, long in, long outWidth) {
        out.add(new Tensor(name + ".weight", Parameter.Kind.WEIGHT, outWidth, in)); // (out, in)
        out.add(new Tensor(name + ".bias", Parameter.Kind.BIAS, outWidth, 1));
    }
}
