/**
 * Distributed training of the transformer prior: {@link dalle.cluster.train.DistributedTrainer} (one
 * worker's loop: sharded forward/backward, reduce-scatter, exchange between groups, sharded AdamW),
 * {@link dalle.cluster.train.ShardCheckpoint} (per-worker shards + a manifest committed last), and
 * {@link dalle.cluster.train.Coordinator} (launches worker processes, restarts them from the last
 * checkpoint when one dies). Compression between groups and mixed precision plug in through
 * {@link dalle.cluster.train.GradientExchange} (exact mean, or PowerSGD on each worker's shard:
 * {@link dalle.cluster.train.ShardPowerSgd}) and {@link dalle.cluster.train.PrecisionPolicy} (fp32,
 * emulated bf16: {@link dalle.cluster.train.Bf16Emulated}, or fp16 with the paper's per-resblock
 * gradient scales: {@link dalle.cluster.train.Fp16}).
 */
package dalle.cluster.train;
