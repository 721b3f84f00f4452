package dalle.training.cluster.powersgd;

/**
 * The one collective PowerSGD needs: every worker of a group calls {@link #allReduceMean} with a
 * buffer of the same length, and each returns with the element-wise mean over the workers in its
 * buffer, identical on all of them. A small interface of its own so that any collective layer
 * (in-process threads, TCP, ...) can be adapted with a lambda.
 */
@FunctionalInterface
public interface MeanReducer {

    /** Replaces {@code data} in place by the element-wise mean of every worker's {@code data}. */
    void allReduceMean(float[] data);
}
