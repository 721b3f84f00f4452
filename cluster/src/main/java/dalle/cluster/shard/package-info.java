/**
 * Parameter sharding inside a machine (ZeRO-3 semantics, {@link dalle.cluster.shard.ShardedParameters})
 * and the memory/communication plan of training the prior on a cluster ({@link dalle.cluster.shard.TrainingPlan}).
 */
package dalle.cluster.shard;
