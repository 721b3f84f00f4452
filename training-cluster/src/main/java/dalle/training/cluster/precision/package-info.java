/**
 * Mixed precision (PAPER.md "Mixed precision"): fp16 or (emulated) bf16 compute in the resblocks with
 * fp32 masters, the paper's per-resblock gradient scaling ({@link
 * dalle.training.cluster.precision.ResblockGradScaler} rules, {@link dalle.training.cluster.precision.MixedPrecisionPrior}
 * mechanism: a blockwise backward pass over cut block inputs, since DJL has no hooks) and standard
 * dynamic loss scaling for comparison ({@link dalle.training.cluster.precision.DynamicLossScaler}).
 */
package dalle.training.cluster.precision;
