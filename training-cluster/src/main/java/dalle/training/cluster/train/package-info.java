/**
 * Distributed training of the transformer prior: {@link dalle.training.cluster.train.DistributedTrainer} (one
 * worker's loop: sharded forward/backward, reduce-scatter, exchange between groups, sharded AdamW),
 * {@link dalle.training.cluster.train.ShardCheckpoint} (per-worker shards + a manifest committed last), and
 * {@link dalle.training.cluster.train.Coordinator} (launches worker processes, restarts them from the last
 * checkpoint when one dies). Compression between groups and mixed precision plug in through
 * {@link dalle.training.cluster.train.ReplicaExchange} (exact mean, or PowerSGD on each worker's shard:
 * {@link dalle.training.cluster.train.ShardPowerSgd}) and {@link dalle.training.cluster.train.PrecisionPolicy} (fp32,
 * emulated bf16: {@link dalle.training.cluster.train.Bf16Emulated}, or fp16 with the paper's per-resblock
 * gradient scales: {@link dalle.training.cluster.train.Fp16}).
 */
package dalle.training.cluster.train;
