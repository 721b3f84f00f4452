/**
 * Gradient averaging algorithms (PAPER.md "Distributed optimisation"): {@link
 * dalle.training.cluster.powersgd.PowerSgd} (rank r, error feedback, fixed random or warm-started Q, Householder
 * orthogonalisation in fp32, byte accounting) and the exact reference {@link
 * dalle.training.cluster.powersgd.ExactAveraging}, both behind {@link dalle.training.cluster.powersgd.GradientAveraging}
 * and talking through a one-method {@link dalle.training.cluster.powersgd.MeanReducer} so that any collective
 * layer can carry them. {@link dalle.training.cluster.powersgd.SimulatedDataParallel} trains the prior with W
 * simulated workers in one process to compare them; the distributed trainer runs PowerSGD between groups
 * through {@link dalle.training.cluster.train.ShardPowerSgd}, its {@link dalle.training.cluster.train.ReplicaExchange}.
 */
package dalle.training.cluster.powersgd;
