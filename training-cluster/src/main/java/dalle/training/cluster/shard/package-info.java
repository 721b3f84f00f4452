/**
 * Parameter sharding inside a machine (ZeRO-3 semantics, {@link dalle.training.cluster.shard.ShardedParameters})
 * and the memory/communication plan of training the prior on a cluster ({@link dalle.training.cluster.shard.TrainingPlan}).
 */
package dalle.training.cluster.shard;
