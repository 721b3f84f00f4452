package dalle.cli;

import dalle.core.sampling.SamplingParams;
import picocli.CommandLine.Option;

/** The per-token sampling options shared by the commands that generate. */
final class SamplingOptions {

    @Option(names = "--temperature", defaultValue = "1.0",
            description = "Sampling temperature (default ${DEFAULT-VALUE}, as the paper).")
    float temperature;

    @Option(names = "--top-k-tokens", defaultValue = "0",
            description = "Sample each image token from the k most likely only (0 = off).")
    int topKTokens;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling threshold (1 = off).")
    float topP;

    @Option(names = "--guidance", defaultValue = "1.0", description = "Classifier-free guidance scale (1 = off).")
    float guidance;

    /** @throws IllegalArgumentException naming the bad value */
    SamplingParams params() {
        return new SamplingParams(temperature, topKTokens, topP, guidance);
    }
}
