package dalle.core.data.readers;

import dalle.core.data.Example;
import dalle.core.image.RgbImage;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A directory tree of images, each captioned by a text file of the same name: {@code cats/001.jpg} with
 * {@code cats/001.txt}. Images are {@code .png}, {@code .jpg} or {@code .jpeg} (any case); the name is matched up to
 * the last dot, so {@code my.photo.jpg} pairs with {@code my.photo.txt}. The caption is the file's first non-blank
 * line, trimmed (UTF-8), so a file holding one caption per line contributes its first.
 *
 * <p>Order: by path, compared as strings relative to the root, so a pass is deterministic. Files and directories
 * whose names start with a dot (e.g. macOS {@code ._x.jpg}) are ignored, as are files of other types. An image
 * without its caption file counts as a missing caption; a caption file without an image as a missing image; a
 * subdirectory that cannot be listed as a source error. Symbolic links are not followed.
 *
 * <p>Memory: each pass first lists the tree, holding one path per image or caption file.
 */
public final class FolderReader implements ExampleSource {

    private final Path root;
    private final RecordDecoder decoder;
    private final AtomicReference<StatsCounter> lastPass = new AtomicReference<>();

    /**
     * @param root directory to walk (recursively)
     * @throws DataSourceException if {@code root} is not a directory
     */
    public FolderReader(Path root, ReaderOptions options) {
        if (!Files.isDirectory(root)) {
            throw new DataSourceException(root, "not a directory");
        }
        this.root = root;
        this.decoder = new RecordDecoder(options);
    }

    @Override
    public String describe() {
        return "folder of image + .txt caption pairs at " + root;
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
        return new Pass(stats, list(stats));
    }

    /** Images and the caption that goes with them, under one name without extension. */
    private static final class Group {
        final List<Path> images = new ArrayList<>();
        Path caption;
    }

    static boolean isImageName(String lowerName) {
        return lowerName.endsWith(".png") || lowerName.endsWith(".jpg") || lowerName.endsWith(".jpeg");
    }

    private Deque<Map.Entry<String, Group>> list(StatsCounter stats) {
        TreeMap<String, Group> groups = new TreeMap<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return !dir.equals(root) && hidden(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String name = file.getFileName().toString();
                    String lower = name.toLowerCase(Locale.ROOT);
                    boolean image = isImageName(lower);
                    if (!attrs.isRegularFile() || hidden(file) || !(image || lower.endsWith(".txt"))) {
                        return FileVisitResult.CONTINUE;
                    }
                    String rel = root.relativize(file).toString();
                    String stem = rel.substring(0, rel.lastIndexOf('.'));
                    Group g = groups.computeIfAbsent(stem, k -> new Group());
                    if (image) {
                        g.images.add(file);
                    } else {
                        g.caption = file;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    stats.sourceError(file.toString(), "cannot be listed: " + e);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new DataSourceException(root, "cannot be listed", e);
        }
        for (Group g : groups.values()) {
            g.images.sort(null);
        }
        return new ArrayDeque<>(groups.entrySet());
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private final class Pass extends PassIterator {
        private final Deque<Map.Entry<String, Group>> groups;
        private final Deque<Path> images = new ArrayDeque<>();
        private Path caption;

        Pass(StatsCounter stats, Deque<Map.Entry<String, Group>> groups) {
            super(stats);
            this.groups = groups;
        }

        @Override
        protected Example computeNext() {
            while (true) {
                while (!images.isEmpty()) {
                    Path image = images.poll();
                    try {
                        if (caption == null) {
                            throw new BadRecord(BadRecord.Reason.MISSING_CAPTION, "no caption file "
                                    + stem(image.getFileName().toString()) + ".txt beside the image");
                        }
                        String text = decoder.captionFile(caption);
                        RgbImage pixels = decoder.imageFile(image);
                        return new Example(pixels, text, image.toString());
                    } catch (BadRecord bad) {
                        stats.skip(image.toString(), bad);
                    }
                }
                Map.Entry<String, Group> next = groups.poll();
                if (next == null) {
                    return null;
                }
                Group g = next.getValue();
                if (g.images.isEmpty()) {
                    stats.skip(g.caption.toString(), new BadRecord(BadRecord.Reason.MISSING_IMAGE,
                            "caption file has no .png/.jpg/.jpeg image of the same name"));
                }
                images.addAll(g.images);
                caption = g.caption;
            }
        }

        @Override
        protected void release() {
            groups.clear();
            images.clear();
        }
    }

    private static String stem(String name) {
        return name.substring(0, name.lastIndexOf('.'));
    }
}
