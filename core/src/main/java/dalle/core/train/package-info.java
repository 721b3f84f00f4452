/**
 * Single-machine training of the three models through one loop ({@link dalle.core.train.Trainer})
 * and one small {@link dalle.core.train.TrainingTask} per model.
 *
 * <h2>The paper's schedules, scaled to a step budget N</h2>
 * The paper gives its schedules in updates of a 3 M-update run; here each phase is the same
 * fraction of N (at least one update), except where that fraction would be a handful of updates:
 * <table>
 *   <caption>Schedules by model</caption>
 *   <tr><th>model</th><th>paper (of 3 M updates)</th><th>here (of N)</th></tr>
 *   <tr><td>dVAE β</td><td>0 → 6.6, cosine, first 5 000</td><td>cosine over the first 5%</td></tr>
 *   <tr><td>dVAE τ</td><td>1 → 1/16, cosine, first 150 000</td><td>cosine over the first 5%</td></tr>
 *   <tr><td>dVAE lr</td><td>1e-4 → 1.25e-6, cosine, first 1.2 M</td><td>cosine over the first 40%, then held</td></tr>
 *   <tr><td>dVAE EMA</td><td>0.999</td><td>0.999, capped at 1 − 10/N by the CLI</td></tr>
 *   <tr><td>prior lr</td><td>warm-up to 4.5e-4 over 5 000, then halved on plateaus</td>
 *       <td>linear warm-up over 5%, then a cosine to 4.5e-5 at N (a fixed budget leaves no room
 *       to detect plateaus)</td></tr>
 *   <tr><td>prior EMA</td><td>0.99</td><td>0.99, capped at 1 − 10/N by the CLI</td></tr>
 *   <tr><td>reranker lr</td><td>(CLIP) warm-up, cosine to 0</td><td>warm-up over 5%, cosine to 0</td></tr>
 * </table>
 * The dVAE's schedules are {@link dalle.core.dvae.DvaeSchedules#tiny()}; the others are
 * {@link dalle.core.train.WarmupCosine}. Optimiser constants are the paper's
 * ({@link dalle.core.train.OptimizerSettings}).
 *
 * <h2>A run's directory</h2>
 * <pre>
 *   metrics.jsonl        one JSON object per update: step, loss and its parts, lr, τ/β, grad_norm, steps/s, wall time
 *   loss.png             one panel per loss part
 *   checkpoint/          the latest checkpoint (checkpoint.prev/ the one before): see CheckpointStore
 *   model/               the final model (the EMA weights when the run keeps an EMA)
 *   tokenizer.json       prior and reranker runs: the tokenizer the captions were read with
 *   codes.bin            prior runs: the dVAE codes of the training images ({@link dalle.core.train.CodeCache})
 * </pre>
 */
package dalle.core.train;
