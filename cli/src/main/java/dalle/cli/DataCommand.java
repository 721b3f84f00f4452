package dalle.cli;

import dalle.core.data.emoji.EmojiPreparation;
import dalle.core.data.emoji.EmojiVendor;
import dalle.core.io.DurableFiles;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalle data}: prepare real training data sets on disk. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Prepare a captioned data set on disk (downloads happen here, never at run time).",
        subcommands = {DataCommand.Emoji.class})
final class DataCommand implements Runnable {

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "emoji", mixinStandardHelpOptions = true,
            description = {"Emoji artwork with captions from its metadata: downloads the emoji-datasource-<vendor> npm",
                    "packages (pinned versions, npm sha512 integrity checked), composites every 64x64 picture onto a",
                    "background, writes captions (vendor, name, skin tones, short names, category) and the zero-shot",
                    "split: OUT/train/ and OUT/held-out/ (image + .txt pairs, 'dalle train --data OUT/train'),",
                    "OUT/index.json and OUT/ATTRIBUTION.md. Nothing is done when OUT already holds the same data."})
    static final class Emoji implements Callable<Integer> {

        @Option(names = {"-o", "--out"}, defaultValue = "${sys:dalle.home:-.}/.dalle/data/emoji", paramLabel = "DIR",
                description = "Output folder (default: the checkout's .dalle/data/emoji, where 'dalle eval' looks).")
        Path out;

        @Option(names = "--vendors", split = ",", defaultValue = "google,twitter", paramLabel = "V",
                description = "Artwork sets: google (Noto Emoji, Apache-2.0), twitter (Twemoji, CC-BY-4.0) (default ${DEFAULT-VALUE}).")
        List<String> vendors;

        @Option(names = "--background", defaultValue = "#ffffff", paramLabel = "#RRGGBB",
                description = "Colour the transparent parts are composited onto (default ${DEFAULT-VALUE}).")
        String background;

        @Option(names = "--seed", defaultValue = "1", description = "Shuffle of the training pictures (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--cache", defaultValue = "${sys:dalle.home:-.}/.dalle/cache/npm", paramLabel = "DIR",
                description = "Where downloaded tarballs are kept and reused (default: the checkout's .dalle/cache/npm).")
        Path cache;

        @Option(names = "--registry", defaultValue = "https://registry.npmjs.org/", paramLabel = "URL",
                description = "The npm registry (default ${DEFAULT-VALUE}).")
        URI registry;

        @Option(names = "--force", description = "Replace OUT when it holds other data.")
        boolean force;

        @Override
        public Integer call() throws Exception {
            int rgb = parseColour(background);
            Map<EmojiVendor, Path> tarballs = new EnumMap<>(EmojiVendor.class);
            List<EmojiVendor> chosen = vendors.stream().map(EmojiVendor::of).distinct().toList();
            if (Files.isRegularFile(out.resolve(EmojiPreparation.INDEX)) && !force) {
                String index = Files.readString(out.resolve(EmojiPreparation.INDEX));
                if (sameData(index, chosen, rgb)) {
                    System.err.println("dalle data emoji: " + out + " already holds this data (" + chosen.size()
                            + " vendor(s), background " + background + ", seed " + seed + "); nothing to do");
                    System.out.println(out);
                    return 0;
                }
                throw new DalleCommand.UserError(out + " holds other emoji data (other vendors, background or seed);"
                        + " add --force to replace it, or choose another --out");
            }
            if (Files.exists(out) && !force && !Files.isRegularFile(out.resolve(EmojiPreparation.INDEX))) {
                throw new DalleCommand.UserError(out + " exists and is not a prepared emoji folder; choose another --out"
                        + " (or --force to replace it)");
            }
            NpmTarballs npm = new NpmTarballs(registry, cache, line -> System.err.println("dalle data emoji: " + line));
            for (EmojiVendor v : chosen) {
                tarballs.put(v, npm.fetch(new NpmTarballs.Pin(v.npmPackage(), v.version(), v.integrity())));
            }
            long t0 = System.nanoTime();
            Path target = out.toAbsolutePath().normalize();
            Path previous = null;
            if (Files.exists(target)) {
                previous = target.resolveSibling(target.getFileName() + ".old");
                DurableFiles.deleteRecursively(previous);
                Files.move(target, previous);
            }
            EmojiPreparation.Index index = EmojiPreparation.prepare(
                    new EmojiPreparation.Settings(tarballs, rgb, seed), target,
                    line -> System.err.println("dalle data emoji: " + line));
            if (previous != null) {
                DurableFiles.deleteRecursively(previous);
            }
            System.err.printf(Locale.ROOT, "dalle data emoji: %s in %.1f s: %s; held out: %d gesture x skin-tone pairs,"
                            + " %d names%n", out, (System.nanoTime() - t0) / 1e9, index.counts(),
                    index.heldOutPairs().size(), index.heldOutNames().size());
            System.out.println(out);
            return 0;
        }

        private boolean sameData(String indexJson, List<EmojiVendor> chosen, int rgb) {
            EmojiPreparation.Index index = new com.google.gson.Gson().fromJson(indexJson, EmojiPreparation.Index.class);
            List<String> have = index.packages().stream().map(p -> p.get("integrity")).toList();
            List<String> want = chosen.stream().sorted().map(EmojiVendor::integrity).toList();
            return index.format() == EmojiPreparation.Index.FORMAT && have.equals(want) && index.seed() == seed
                    && index.background().equals(String.format(Locale.ROOT, "#%06x", rgb));
        }

        static int parseColour(String s) {
            String hex = s.startsWith("#") ? s.substring(1) : s;
            if (!hex.matches("[0-9a-fA-F]{6}")) {
                throw new IllegalArgumentException("--background: expected #RRGGBB, got '" + s + "'");
            }
            return Integer.parseInt(hex, 16);
        }
    }
}
