/**
 * Distributed training of the transformer prior. One worker's parts:
 * <ul>
 *   <li>{@link dalle.training.cluster.train.DistributedTrainer} — the loop (updates, metrics, checkpoints,
 *       the fp32 stop at a non-finite update) and its {@code Builder}, which wires a worker's state;</li>
 *   <li>{@code ShardedUpdate} — one update: gather, forward/backward, reduce-scatter, exchange between
 *       groups, unscale, verdict, clip ({@code ShardClipping}, core's rule), sharded AdamW, weight
 *       average ({@code ShardedEma}, core's rule);</li>
 *   <li>{@code TrainerCheckpoints} and {@code FinalModel} — what a worker saves, restores and leaves;
 *       {@link dalle.training.cluster.train.ShardCheckpoint} is the file format (per-worker shards + a
 *       manifest committed last).</li>
 * </ul>
 * {@link dalle.training.cluster.train.Coordinator} launches worker processes
 * ({@link dalle.training.cluster.train.PriorWorker}) and restarts them from the last checkpoint when one
 * dies. Compression between groups and mixed precision plug in through
 * {@link dalle.training.cluster.train.ReplicaExchange} (exact mean, or PowerSGD on each worker's shard:
 * {@link dalle.training.cluster.train.ShardPowerSgd}) and {@link dalle.training.cluster.train.PrecisionPolicy}
 * (fp32, emulated bf16: {@link dalle.training.cluster.train.Bf16Emulated}, or fp16 with the paper's
 * per-resblock gradient scales: {@link dalle.training.cluster.train.Fp16}).
 */
package dalle.training.cluster.train;
