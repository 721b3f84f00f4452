/**
 * The synthetic "shapes" captioned data set and its automatic judge.
 *
 * <ul>
 *   <li>{@link dalle.core.data.shapes.ShapesDataset}: item {@code i} is a pure function of
 *       (seed, split, i) — one or two objects (8 {@link dalle.core.data.shapes.Colour colours} × 5
 *       {@link dalle.core.data.shapes.ShapeKind shapes} × 2 {@link dalle.core.data.shapes.Size sizes})
 *       on black, with a caption in one of several {@link dalle.core.data.shapes.Phrasing phrasings}
 *       ("a small red circle above a blue square"). Default 64×64; 32 and 128 work too.</li>
 *   <li>{@link dalle.core.data.shapes.Split}: 8 of the 40 colour + shape pairs are held out of
 *       training (red square, orange circle, yellow star, green circle, cyan square, blue triangle,
 *       purple diamond, white triangle); generating them is the zero-shot test, with fixed caption
 *       lists from {@link dalle.core.data.shapes.ShapesDataset#evaluationCaptions}.</li>
 *   <li>{@link dalle.core.data.shapes.CaptionParser}: caption text back to a
 *       {@link dalle.core.data.shapes.CaptionQuery}.</li>
 *   <li>{@link dalle.core.data.shapes.Oracle}: reads an image (segmentation by colour, shape by
 *       moment-fitted template overlap) and returns a {@link dalle.core.data.shapes.Verdict} on
 *       whether it matches a caption, the stand-in for the paper's human vote.</li>
 * </ul>
 */
package dalle.core.data.shapes;
