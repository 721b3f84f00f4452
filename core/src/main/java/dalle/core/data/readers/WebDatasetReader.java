package dalle.core.data.readers;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dalle.core.data.Example;
import dalle.core.data.readers.BadRecord.Reason;
import dalle.core.image.RgbImage;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * WebDataset shards: tar files ({@code .tar}, or gzipped {@code .tar.gz}/{@code .tgz}) in which the consecutive
 * members sharing a key form one sample. As in the {@code webdataset} library, a member's key is its path up to the
 * first dot of its file name and the rest is its extension: {@code 00/000123.jpg} and {@code 00/000123.txt} form
 * sample {@code 00/000123}. A sample needs an image ({@code jpg}, {@code jpeg} or {@code png}; the first one wins) and
 * a caption: the {@code txt} member (first non-blank line, trimmed, UTF-8), or failing that the string field
 * {@code "caption"} of the {@code json} member. Other members are skipped without being read.
 *
 * <p>Shards are read in the order given, each streamed once per pass; memory is one sample's members. A shard that is
 * missing, not a tar file, cut short or malformed (a bad checksum, a pax record that does not parse) counts as one
 * {@link ReadStats#sourceErrors() source error} whose problem names the shard, the byte and the reason: the samples
 * read before the damage are kept (the sample in progress too, if its image and caption were read whole; otherwise it
 * is skipped as "other"), and reading goes on with the next shard. Tar format: see {@link TarReader} (Apache Commons
 * Compress).
 */
public final class WebDatasetReader implements ExampleSource {

    private final List<Path> shards;
    private final RecordDecoder decoder;
    private final AtomicReference<StatsCounter> lastPass = new AtomicReference<>();

    /**
     * @param shards shard files, read in this order; they are opened only when a pass reaches them
     * @throws IllegalArgumentException if the list is empty
     */
    public WebDatasetReader(List<Path> shards, ReaderOptions options) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("no shards given");
        }
        this.shards = List.copyOf(shards);
        this.decoder = new RecordDecoder(options);
    }

    /**
     * A reader of one shard file, or of every shard directly inside a directory (sorted by name).
     *
     * @throws DataSourceException naming {@code path} if it does not exist or a directory holds no shard
     */
    public static WebDatasetReader of(Path path, ReaderOptions options) {
        return new WebDatasetReader(shardsAt(path), options);
    }

    /** The shard files directly inside {@code path} (sorted), or {@code path} itself if it is a file. */
    static List<Path> shardsAt(Path path) {
        if (Files.isRegularFile(path)) {
            return List.of(path);
        }
        if (!Files.isDirectory(path)) {
            throw new DataSourceException(path, "does not exist");
        }
        List<Path> found;
        try (Stream<Path> children = Files.list(path)) {
            found = children.filter(p -> Files.isRegularFile(p) && isShardName(p.getFileName().toString()))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new DataSourceException(path, "cannot be listed", e);
        }
        if (found.isEmpty()) {
            throw new DataSourceException(path, "holds no .tar, .tar.gz or .tgz shard");
        }
        return found;
    }

    /** Whether a file name looks like a shard: {@code .tar}, {@code .tar.gz} or {@code .tgz}, any case. */
    public static boolean isShardName(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        return !lower.startsWith(".")
                && (lower.endsWith(".tar") || lower.endsWith(".tar.gz") || lower.endsWith(".tgz"));
    }

    /** The shards, in reading order. */
    public List<Path> shards() {
        return shards;
    }

    @Override
    public String describe() {
        return "webdataset: " + shards.size() + (shards.size() == 1 ? " shard " : " shards from ") + shards.get(0);
    }

    @Override
    public ReadStats stats() {
        StatsCounter s = lastPass.get();
        return s == null ? ReadStats.EMPTY : s.snapshot();
    }

    @Override
    public ExampleIterator iterator() {
        StatsCounter stats = new StatsCounter();
        lastPass.set(stats);
        return new Pass(stats);
    }

    /** The members of one sample read so far. */
    private static final class Sample {
        final String source;
        final String key;
        byte[] image;
        byte[] txt;
        byte[] json;
        long imageTooLarge = -1;
        long captionTooLarge = -1;
        boolean cutOff;

        Sample(String shard, String key) {
            this.source = shard + ":" + key;
            this.key = key;
        }

        void add(String ext, TarReader.Entry entry, TarReader tar, long maxImageBytes) throws IOException {
            switch (ext) {
                case "jpg", "jpeg", "png" -> {
                    if (image == null && imageTooLarge < 0) {
                        if (entry.size() > maxImageBytes) {
                            imageTooLarge = entry.size();
                        } else {
                            image = tar.read();
                        }
                    }
                }
                case "txt" -> txt = readCaption(entry, tar);
                case "json" -> json = readCaption(entry, tar);
                default -> {
                    // Not used: skipped unread by the next TarReader.next().
                }
            }
        }

        private byte[] readCaption(TarReader.Entry entry, TarReader tar) throws IOException {
            if (entry.size() > RecordDecoder.MAX_CAPTION_FILE_BYTES) {
                captionTooLarge = entry.size();
                return null;
            }
            return tar.read();
        }
    }

    private final class Pass extends PassIterator {
        private int nextShard;
        private Path shard;
        private TarReader tar;
        private Sample pending;
        private final Deque<Sample> complete = new ArrayDeque<>();

        Pass(StatsCounter stats) {
            super(stats);
        }

        @Override
        protected Example computeNext() {
            while (true) {
                if (!complete.isEmpty()) {
                    Optional<Example> e = finish(complete.poll());
                    if (e.isPresent()) {
                        return e.get();
                    }
                    continue;
                }
                if (tar == null) {
                    if (nextShard == shards.size()) {
                        return null;
                    }
                    open(shards.get(nextShard++));
                    continue;
                }
                try {
                    Optional<TarReader.Entry> entry = tar.next();
                    if (entry.isEmpty()) {
                        closeShard();
                        continue;
                    }
                    String name = entry.get().name();
                    int slash = name.lastIndexOf('/');
                    int dot = name.indexOf('.', slash + 1);
                    String key = dot < 0 ? name : name.substring(0, dot);
                    String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
                    if (pending != null && !pending.key.equals(key)) {
                        complete.add(pending);
                        pending = null;
                    }
                    if (pending == null) {
                        pending = new Sample(shard.toString(), key);
                    }
                    pending.add(ext, entry.get(), tar, decoder.options().maxImageBytes());
                } catch (IOException e) {
                    stats.sourceError(shard.toString(), "shard is damaged, the rest of it is lost: " + e.getMessage());
                    if (pending != null) {
                        pending.cutOff = true;
                    }
                    closeShard();
                }
            }
        }

        private void open(Path path) {
            shard = path;
            InputStream in = null;
            try {
                in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
                String lower = path.getFileName().toString().toLowerCase(Locale.ROOT);
                if (lower.endsWith(".gz") || lower.endsWith(".tgz")) {
                    in = new GZIPInputStream(in, 1 << 16);
                }
                tar = new TarReader(in);
            } catch (NoSuchFileException e) {
                stats.sourceError(path.toString(), "shard does not exist");
                closeQuietly(in);
            } catch (IOException e) {
                stats.sourceError(path.toString(), "shard cannot be opened: " + e);
                closeQuietly(in);
            }
        }

        /** Ends the current shard; its last sample is complete (or cut off, as flagged). */
        private void closeShard() {
            if (pending != null) {
                complete.add(pending);
                pending = null;
            }
            if (tar != null) {
                try {
                    tar.close();
                } catch (IOException e) {
                    stats.sourceError(shard.toString(), "shard cannot be closed: " + e);
                }
                tar = null;
            }
        }

        private Optional<Example> finish(Sample s) {
            try {
                return Optional.of(example(s));
            } catch (BadRecord bad) {
                stats.skip(s.source, bad);
                return Optional.empty();
            }
        }

        private Example example(Sample s) throws BadRecord {
            boolean hasCaption = s.txt != null || s.json != null || s.captionTooLarge >= 0;
            if (s.cutOff && (s.image == null && s.imageTooLarge < 0 || !hasCaption)) {
                throw new BadRecord(Reason.OTHER, "sample cut off where the shard is damaged");
            }
            if (s.image == null && s.imageTooLarge < 0) {
                throw new BadRecord(Reason.MISSING_IMAGE, "sample has no .jpg, .jpeg or .png member");
            }
            String caption = caption(s);
            if (s.imageTooLarge >= 0) {
                throw RecordDecoder.tooLarge(s.imageTooLarge, decoder.options().maxImageBytes());
            }
            RgbImage image = decoder.image(s.image);
            return new Example(image, caption, s.source);
        }

        private String caption(Sample s) throws BadRecord {
            if (s.txt != null) {
                return decoder.caption(s.txt);
            }
            if (s.captionTooLarge >= 0) {
                throw RecordDecoder.oversizedCaptionFile(s.captionTooLarge);
            }
            if (s.json == null) {
                throw new BadRecord(Reason.MISSING_CAPTION, "sample has no .txt member and no .json caption");
            }
            JsonElement json;
            try {
                json = JsonParser.parseString(new String(s.json, StandardCharsets.UTF_8));
            } catch (JsonParseException e) {
                throw new BadRecord(Reason.OTHER, "the .json member does not parse: " + e.getMessage());
            }
            JsonElement c = json.isJsonObject() ? json.getAsJsonObject().get("caption") : null;
            if (c != null && c.isJsonPrimitive() && c.getAsJsonPrimitive().isString()) {
                return decoder.caption(c.getAsString());
            }
            throw new BadRecord(
                    Reason.MISSING_CAPTION, "sample has no .txt member and its .json has no \"caption\" string");
        }

        @Override
        protected void release() {
            complete.clear();
            pending = null;
            if (tar != null) {
                try {
                    tar.close();
                } catch (IOException e) {
                    stats.sourceError(shard.toString(), "shard cannot be closed: " + e);
                }
                tar = null;
            }
        }
    }

    private static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException suppressed) {
                // Nothing was read from it; the open failure is what gets reported.
            }
        }
    }
}
