package dalle.core.data.readers;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/** Opens a real image-text data set by looking at what is on disk. */
public final class Readers {

    /** The formats {@link #detect} recognises. */
    public enum Format {
        /** A directory tree of images with same-name .txt captions: {@link FolderReader}. */
        FOLDER,
        /** A COCO-captions annotations .json file: {@link CocoCaptionsReader}. */
        COCO,
        /** A .tar/.tar.gz/.tgz shard, a directory of shards, or a brace pattern of shards: {@link WebDatasetReader}. */
        WEBDATASET
    }

    private static final String EXPECTED = "expected a directory of images with same-name .txt captions, a COCO"
            + " captions .json file, a WebDataset .tar/.tar.gz/.tgz shard, a directory holding such shards, or a shard"
            + " pattern like data-{000..009}.tar";

    private Readers() {}

    /** {@link #open(Path, ReaderOptions)} with the default limits. */
    public static ExampleSource open(Path path, int resolution) {
        return open(path, ReaderOptions.of(resolution));
    }

    /**
     * A reader for {@code path}, by {@link #detect format}. COCO files read every caption, with the image folder
     * found by {@link CocoCaptionsReader#guessImageDirectory}; use the reader's constructor to choose otherwise.
     *
     * @throws DataSourceException naming {@code path} if it does not exist or its format cannot be told
     */
    public static ExampleSource open(Path path, ReaderOptions options) {
        return switch (detect(path)) {
            case FOLDER -> new FolderReader(path, options);
            case COCO -> CocoCaptionsReader.of(path, options);
            case WEBDATASET -> Files.exists(path)
                    ? WebDatasetReader.of(path, options)
                    : new WebDatasetReader(
                            ShardPatterns.expand(path.toString()).stream().map(Path::of).toList(), options);
        };
    }

    /**
     * The format of {@code path}: a shard file or a directory with shards directly inside is WebDataset (checked
     * first); a {@code .json} file is COCO; a directory tree holding at least one image with a same-name
     * {@code .txt} is a folder; a path that does not exist but whose name holds a brace pattern whose first
     * expansion is an existing shard is WebDataset.
     *
     * @throws DataSourceException naming {@code path} and what was expected otherwise
     */
    public static Format detect(Path path) {
        if (!Files.exists(path)) {
            String text = path.toString();
            if (text.contains("{")) {
                List<String> shards;
                try {
                    shards = ShardPatterns.expand(text);
                } catch (IllegalArgumentException e) {
                    throw new DataSourceException(path, e.getMessage());
                }
                Path first = Path.of(shards.get(0));
                if (Files.isRegularFile(first) && WebDatasetReader.isShardName(first.getFileName().toString())) {
                    return Format.WEBDATASET;
                }
                throw new DataSourceException(path, "its first shard " + first + " does not exist");
            }
            throw new DataSourceException(path, "does not exist");
        }
        if (Files.isRegularFile(path)) {
            String name = path.getFileName().toString();
            if (WebDatasetReader.isShardName(name)) {
                return Format.WEBDATASET;
            }
            if (name.toLowerCase(Locale.ROOT).endsWith(".json")) {
                return Format.COCO;
            }
            throw new DataSourceException(path, "cannot tell the format of this file; " + EXPECTED);
        }
        if (Files.isDirectory(path)) {
            if (hasShard(path)) {
                return Format.WEBDATASET;
            }
            if (hasCaptionedImage(path)) {
                return Format.FOLDER;
            }
            throw new DataSourceException(path, "cannot tell the format of this directory: it holds no shard and no"
                    + " image with a same-name .txt; " + EXPECTED);
        }
        throw new DataSourceException(path, "is neither a file nor a directory; " + EXPECTED);
    }

    private static boolean hasShard(Path dir) {
        try (Stream<Path> children = Files.list(dir)) {
            return children.anyMatch(
                    p -> Files.isRegularFile(p) && WebDatasetReader.isShardName(p.getFileName().toString()));
        } catch (IOException e) {
            throw new DataSourceException(dir, "cannot be listed", e);
        }
    }

    /** Walks until the first image whose .txt caption exists. */
    private static boolean hasCaptionedImage(Path dir) {
        AtomicBoolean found = new AtomicBoolean();
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String name = file.getFileName().toString();
                    if (attrs.isRegularFile() && !name.startsWith(".")
                            && FolderReader.isImageName(name.toLowerCase(Locale.ROOT))) {
                        Path txt = file.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".txt");
                        if (Files.isRegularFile(txt)) {
                            found.set(true);
                            return FileVisitResult.TERMINATE;
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new DataSourceException(dir, "cannot be listed", e);
        }
        return found.get();
    }
}
