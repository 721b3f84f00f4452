package dalle.core.io;

import java.nio.file.Path;

/** A checkpoint, config or bundle file that cannot be used; the message names the file and the reason. */
public class CheckpointException extends RuntimeException {

    private final Path path;

    public CheckpointException(Path path, String reason) {
        super(path + ": " + reason);
        this.path = path;
    }

    public CheckpointException(Path path, String reason, Throwable cause) {
        super(path + ": " + reason, cause);
        this.path = path;
    }

    /** The offending file. */
    public Path path() {
        return path;
    }
}
