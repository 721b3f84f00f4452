/**
 * Collectives (all-reduce, reduce-scatter, all-gather, broadcast, barrier, sub-groups) behind one
 * interface, {@link dalle.cluster.comm.Collectives}: one ring schedule, run over in-memory queues
 * between threads ({@link dalle.cluster.comm.InProcessCollectives}) or over TCP sockets between
 * processes and pods ({@link dalle.cluster.comm.TcpCollectives}), with bit-identical results.
 */
package dalle.cluster.comm;
