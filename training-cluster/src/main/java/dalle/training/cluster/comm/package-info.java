/**
 * Collectives (all-reduce, reduce-scatter, all-gather, broadcast, barrier, sub-groups) behind one
 * interface, {@link dalle.training.cluster.comm.Collectives}: one ring schedule, run over in-memory queues
 * between threads ({@link dalle.training.cluster.comm.InProcessCollectives}) or over TCP sockets between
 * processes and pods ({@link dalle.training.cluster.comm.TcpCollectives}), with bit-identical results.
 */
package dalle.training.cluster.comm;
