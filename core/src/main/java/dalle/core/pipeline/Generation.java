package dalle.core.pipeline;

import java.util.List;

/**
 * The result of one {@link GenerationRequest}.
 *
 * @param caption the request caption
 * @param seed the request seed
 * @param bundleVersion the model bundle that produced it
 * @param ranked every candidate, best first (ties by lower index)
 * @param topK how many of {@code ranked} were asked for
 * @param timings wall time per stage
 */
public record Generation(String caption, long seed, String bundleVersion, List<Candidate> ranked, int topK,
                         Timings timings) {

    /** The k best candidates. */
    public List<Candidate> top() {
        return ranked.subList(0, topK);
    }

    /** Wall time spent in each stage, in milliseconds. */
    public record Timings(double tokenizeMs, double sampleMs, double decodeMs, double rerankMs) {
        public double totalMs() {
            return tokenizeMs + sampleMs + decodeMs + rerankMs;
        }
    }
}
