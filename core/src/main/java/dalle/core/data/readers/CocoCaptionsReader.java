package dalle.core.data.readers;

import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dalle.core.data.Example;
import dalle.core.data.readers.BadRecord.Reason;
import dalle.core.image.RgbImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * COCO-captions annotations ({@code captions_train2017.json} and the like) with their image folder:
 * <pre>{"images": [{"id": 179765, "file_name": "000000179765.jpg", ...}, ...],
 * "annotations": [{"image_id": 179765, "id": 38, "caption": "A black Honda motorcycle ..."}, ...], ...}</pre>
 * Images are {@code imageDirectory.resolve(file_name)}; other fields are ignored. Examples come in annotation order:
 * one per annotation ({@link CaptionMode#EVERY_CAPTION}) or one per image with its first usable caption
 * ({@link CaptionMode#FIRST_CAPTION}; a blank or oversized first caption falls through to the next one). Captions
 * are cleaned as everywhere (first non-blank line, trimmed).
 *
 * <p>Memory: the file is streamed with Gson's {@link JsonReader}, never held whole. A first scan (done once and
 * kept) reads only {@code images} into an id to file-name map, skipping {@code annotations}; each pass then
 * streams {@code annotations}, skipping {@code images}. So the two arrays may come in either order, and memory is
 * the map (about 100 bytes per image: ~12 MB for COCO train's 118k images), plus in FIRST_CAPTION mode the set of
 * image ids already handled, plus the last {@value #DECODED_CACHE} decoded images (so captions of one image in a
 * row decode it once). Annotations are never all in memory.
 *
 * <p>Bad records, counted per annotation (per image in FIRST_CAPTION mode): an image id not among {@code images}
 * or a file that does not exist is a missing image; a missing or non-string caption a missing caption; an entry
 * without an {@code image_id}, or whose {@code file_name} leads outside the image directory, is "other". A file
 * that is not JSON, or lacks either array, throws {@link DataSourceException} from {@link #iterator()}.
 */
public final class CocoCaptionsReader implements ExampleSource {

    /** How many examples one image gives. */
    public enum CaptionMode {
        /** One example per (image, caption) annotation: about five per COCO image. */
        EVERY_CAPTION,
        /** One example per image, with its first usable caption in annotation order. */
        FIRST_CAPTION
    }

    static final int DECODED_CACHE = 16;

    private final Path annotations;
    private final Path imageDirectory;
    private final CaptionMode mode;
    private final RecordDecoder decoder;
    private final AtomicReference<StatsCounter> lastPass = new AtomicReference<>();
    private Map<Long, String> fileNames; // guarded by this

    /**
     * @param annotations the captions JSON file
     * @param imageDirectory the folder {@code file_name}s are relative to
     * @throws DataSourceException if either path is not what it should be
     */
    public CocoCaptionsReader(Path annotations, Path imageDirectory, CaptionMode mode, ReaderOptions options) {
        if (!Files.isRegularFile(annotations)) {
            throw new DataSourceException(annotations, "is not a COCO annotations file (no such file)");
        }
        if (!Files.isDirectory(imageDirectory)) {
            throw new DataSourceException(imageDirectory, "is not a directory (image folder for " + annotations + ")");
        }
        this.annotations = annotations;
        this.imageDirectory = imageDirectory.normalize();
        this.mode = mode;
        this.decoder = new RecordDecoder(options);
    }

    /** Every caption, with the image folder found by {@link #guessImageDirectory}. */
    public static CocoCaptionsReader of(Path annotations, ReaderOptions options) {
        return new CocoCaptionsReader(
                annotations, guessImageDirectory(annotations), CaptionMode.EVERY_CAPTION, options);
    }

    /**
     * Where COCO keeps the images of an annotations file: for {@code <dir>/captions_<split>.json}, the first
     * existing directory among {@code <dir>/<split>}, {@code <dir>/../<split>} (the usual layout:
     * {@code annotations/captions_val2017.json} beside {@code val2017/}) and {@code <dir>/images}; otherwise
     * {@code <dir>} itself.
     */
    public static Path guessImageDirectory(Path annotations) {
        Path abs = annotations.toAbsolutePath();
        Path dir = abs.getParent();
        String name = abs.getFileName().toString();
        String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        List<Path> candidates = new ArrayList<>();
        if (stem.startsWith("captions_") && stem.length() > "captions_".length()) {
            String split = stem.substring("captions_".length());
            candidates.add(dir.resolve(split));
            if (dir.getParent() != null) {
                candidates.add(dir.getParent().resolve(split));
            }
        }
        candidates.add(dir.resolve("images"));
        return candidates.stream().filter(Files::isDirectory).findFirst().orElse(dir);
    }

    /** The folder images are read from. */
    public Path imageDirectory() {
        return imageDirectory;
    }

    @Override
    public String describe() {
        return "coco captions (" + mode + "): " + annotations + " with images in " + imageDirectory;
    }

    @Override
    public ReadStats stats() {
        StatsCounter s = lastPass.get();
        return s == null ? ReadStats.EMPTY : s.snapshot();
    }

    /** @throws DataSourceException if the annotations file is not a COCO captions file */
    @Override
    public ExampleIterator iterator() {
        Map<Long, String> index = index();
        StatsCounter stats = new StatsCounter();
        lastPass.set(stats);
        JsonReader json = null;
        try {
            json = open();
            json.beginObject();
            while (!json.nextName().equals("annotations")) {
                json.skipValue();
            }
            json.beginArray();
            return new Pass(stats, json, index);
        } catch (IOException | RuntimeException e) {
            closeQuietly(json);
            throw new DataSourceException(annotations, "cannot be read: " + e.getMessage(), e);
        }
    }

    private JsonReader open() throws IOException {
        return new JsonReader(Files.newBufferedReader(annotations, StandardCharsets.UTF_8));
    }

    /** The id to file-name map, read on first use. */
    private synchronized Map<Long, String> index() {
        if (fileNames == null) {
            try (JsonReader json = open()) {
                Map<Long, String> names = new HashMap<>();
                boolean images = false;
                boolean captions = false;
                json.beginObject();
                while (json.hasNext()) {
                    switch (json.nextName()) {
                        case "images" -> {
                            images = true;
                            readImages(json, names);
                        }
                        case "annotations" -> {
                            captions = true;
                            json.skipValue();
                        }
                        default -> json.skipValue();
                    }
                }
                if (!images || !captions) {
                    throw new DataSourceException(annotations, "is not a COCO captions file: it has no \""
                            + (images ? "annotations" : "images") + "\" array");
                }
                fileNames = names;
            } catch (IOException | IllegalStateException | JsonParseException e) {
                throw new DataSourceException(annotations, "is not a COCO captions file: " + e.getMessage(), e);
            }
        }
        return fileNames;
    }

    /** Entries without a numeric id or a string file_name are left out (their annotations count as missing images). */
    private static void readImages(JsonReader json, Map<Long, String> names) throws IOException {
        json.beginArray();
        while (json.hasNext()) {
            if (json.peek() != JsonToken.BEGIN_OBJECT) {
                json.skipValue();
                continue;
            }
            Optional<Long> id = Optional.empty();
            String file = null;
            json.beginObject();
            while (json.hasNext()) {
                switch (json.nextName()) {
                    case "id" -> id = longValue(json);
                    case "file_name" -> file = stringValue(json).orElse(null);
                    default -> json.skipValue();
                }
            }
            json.endObject();
            if (id.isPresent() && file != null) {
                names.put(id.get(), file);
            }
        }
        json.endArray();
    }

    private static Optional<Long> longValue(JsonReader json) throws IOException {
        JsonToken t = json.peek();
        if (t != JsonToken.NUMBER && t != JsonToken.STRING) {
            json.skipValue();
            return Optional.empty();
        }
        String text = json.nextString();
        try {
            return Optional.of(Long.parseLong(text.strip()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> stringValue(JsonReader json) throws IOException {
        if (json.peek() != JsonToken.STRING) {
            json.skipValue();
            return Optional.empty();
        }
        return Optional.of(json.nextString());
    }

    /** One annotation as found; absent fields are empty. */
    private record Annotation(Optional<Long> imageId, Optional<Long> id, Optional<String> caption) {}

    private final class Pass extends PassIterator {
        private final JsonReader json;
        private final Map<Long, String> index;
        private final Set<Long> done = new HashSet<>();
        private final Map<Long, RgbImage> decoded = new LinkedHashMap<>(32, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, RgbImage> eldest) {
                return size() > DECODED_CACHE;
            }
        };

        Pass(StatsCounter stats, JsonReader json, Map<Long, String> index) {
            super(stats);
            this.json = json;
            this.index = index;
        }

        @Override
        protected Example computeNext() {
            try {
                while (json.hasNext()) {
                    if (json.peek() != JsonToken.BEGIN_OBJECT) {
                        json.skipValue();
                        stats.skip(annotations.toString(),
                                new BadRecord(Reason.OTHER, "an annotation is not an object"));
                        continue;
                    }
                    Optional<Example> e = example(readAnnotation());
                    if (e.isPresent()) {
                        return e.get();
                    }
                }
                return null;
            } catch (IOException | IllegalStateException | JsonParseException e) {
                stats.sourceError(annotations.toString(), "unreadable in the annotations array, the rest is lost: "
                        + e.getMessage());
                return null;
            }
        }

        private Annotation readAnnotation() throws IOException {
            Optional<Long> imageId = Optional.empty();
            Optional<Long> id = Optional.empty();
            Optional<String> caption = Optional.empty();
            json.beginObject();
            while (json.hasNext()) {
                switch (json.nextName()) {
                    case "image_id" -> imageId = longValue(json);
                    case "id" -> id = longValue(json);
                    case "caption" -> caption = stringValue(json);
                    default -> json.skipValue();
                }
            }
            json.endObject();
            return new Annotation(imageId, id, caption);
        }

        private Optional<Example> example(Annotation a) {
            String where = annotations + " annotation" + a.id().map(i -> " " + i).orElse("")
                    + a.imageId().map(i -> " (image " + i + ")").orElse("");
            if (a.imageId().isEmpty()) {
                stats.skip(where, new BadRecord(Reason.OTHER, "annotation has no numeric image_id"));
                return Optional.empty();
            }
            long imageId = a.imageId().get();
            if (mode == CaptionMode.FIRST_CAPTION && done.contains(imageId)) {
                return Optional.empty();
            }
            boolean captionChecked = false;
            try {
                String file = index.get(imageId);
                if (file == null) {
                    throw new BadRecord(Reason.MISSING_IMAGE, "image id " + imageId + " is not among the images");
                }
                Path path = imageDirectory.resolve(file).normalize();
                where = path + a.id().map(i -> "#" + i).orElse("");
                if (!path.startsWith(imageDirectory)) {
                    throw new BadRecord(Reason.OTHER, "file_name " + file + " leads outside " + imageDirectory);
                }
                String caption = decoder.caption(a.caption().orElseThrow(() ->
                        new BadRecord(Reason.MISSING_CAPTION, "annotation has no caption string")));
                captionChecked = true;
                RgbImage image = decoded.get(imageId);
                if (image == null) {
                    image = decoder.imageFile(path);
                    decoded.put(imageId, image);
                }
                done.add(imageId);
                return Optional.of(new Example(image, caption, where));
            } catch (BadRecord bad) {
                if (captionChecked || bad.reason() == Reason.MISSING_IMAGE || bad.reason() == Reason.OTHER) {
                    done.add(imageId); // FIRST_CAPTION: the image itself is bad, its other captions cannot help
                }
                stats.skip(where, bad);
                return Optional.empty();
            }
        }

        @Override
        protected void release() {
            closeQuietly(json);
            decoded.clear();
            done.clear();
        }
    }

    private static void closeQuietly(JsonReader json) {
        if (json != null) {
            try {
                json.close();
            } catch (IOException ignored) {
                // Only read from; nothing to lose.
            }
        }
    }
}
