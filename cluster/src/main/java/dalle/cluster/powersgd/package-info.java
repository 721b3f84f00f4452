/**
 * Gradient exchange between groups (PAPER.md "Distributed optimisation"): {@link
 * dalle.cluster.powersgd.PowerSgd} (rank r, error feedback, fixed random or warm-started Q, Householder
 * orthogonalisation in fp32, byte accounting) and the exact reference {@link
 * dalle.cluster.powersgd.ExactAveraging}, both behind {@link dalle.cluster.powersgd.GradientExchange}
 * and talking through a one-method {@link dalle.cluster.powersgd.MeanReducer} so that any collective
 * layer can carry them. {@link dalle.cluster.powersgd.SimulatedDataParallel} trains the prior with W
 * simulated workers in one process to compare them.
 */
package dalle.cluster.powersgd;
