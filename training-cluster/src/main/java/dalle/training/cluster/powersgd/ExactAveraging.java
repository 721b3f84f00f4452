package dalle.training.cluster.powersgd;

import java.util.List;

/** The uncompressed reference: every gradient all-reduced as is, in one buffer. */
public final class ExactAveraging implements GradientAveraging {

    private float[] buffer = new float[0];  // reused while the total size stays the same

    @Override
    public ExchangeStats exchange(List<float[]> gradients, MeanReducer reducer) {
        int total = 0;
        for (float[] g : gradients) {
            total = Math.addExact(total, g.length);
        }
        if (buffer.length != total) {
            buffer = new float[total];
        }
        int off = 0;
        for (float[] g : gradients) {
            System.arraycopy(g, 0, buffer, off, g.length);
            off += g.length;
        }
        reducer.allReduceMean(buffer);
        off = 0;
        for (float[] g : gradients) {
            System.arraycopy(buffer, off, g, 0, g.length);
            off += g.length;
        }
        long bytes = 4L * total;
        return new ExchangeStats(bytes, bytes, LowRank.allFinite(buffer));
    }
}
