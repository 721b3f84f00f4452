package dalle.core.data.readers;

import java.nio.file.Path;

/**
 * A data source that cannot be used at all (unknown format, missing path, unreadable annotations file), as opposed
 * to a bad record, which is skipped and counted in {@link ReadStats}. The message names the path and the reason.
 */
public class DataSourceException extends RuntimeException {

    private final transient Path path;

    public DataSourceException(Path path, String reason) {
        super(path + ": " + reason);
        this.path = path;
    }

    public DataSourceException(Path path, String reason, Throwable cause) {
        super(path + ": " + reason, cause);
        this.path = path;
    }

    /** The offending path. */
    public Path path() {
        return path;
    }
}
