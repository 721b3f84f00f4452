package dalle.services.gateway.auth;

import dalle.services.common.auth.ApiKeys;
import dalle.services.gateway.config.GatewayConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Locale;
import org.jboss.logging.Logger;

/**
 * Who is calling: the tenant of the API key in an {@code Authorization: Bearer <key>} header, from the keys file
 * {@code dalle.auth.api-keys-file} (hashes only; see {@link ApiKeys}). The file is read again when it changes
 * (a rotated Kubernetes Secret), at most every {@code dalle.auth.reload-interval}; a changed file that does not
 * parse is refused with its line and the keys read before stay in use. Authentication is on unless
 * {@code dalle.auth.enabled=false} says otherwise; on, the gateway does not start without a keys file that parses.
 */
@Singleton
public class Authenticator {

    private static final Logger LOG = Logger.getLogger(Authenticator.class);

    /** Why a call was refused, for HTTP 401 and gRPC UNAUTHENTICATED. */
    public static final class Unauthenticated extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String code;

        public Unauthenticated(String code, String message) {
            super(message);
            this.code = code;
        }

        /** OpenAI's error code: {@code missing_api_key} or {@code invalid_api_key}. */
        public String code() {
            return code;
        }
    }

    private final boolean enabled;
    private final Path file;
    private final long reloadNanos;
    private volatile ApiKeys keys;
    private volatile FileTime loadedModified;
    private volatile long checkedAt;

    public Authenticator(GatewayConfig config) {
        this.enabled = config.auth().enabled();
        this.file = config.auth().apiKeysFile().map(Path::of).orElse(null);
        this.reloadNanos = config.auth().reloadInterval().toNanos();
    }

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.warn("gateway: authentication is OFF (dalle.auth.enabled=false): anyone who reaches the gateway may "
                    + "generate and read every job");
            return;
        }
        if (file == null) {
            throw new IllegalStateException("dalle.auth.api-keys-file is not set: authentication is on "
                    + "(dalle.auth.enabled=true, the default) and needs a file of hashed API keys (dalle keys create "
                    + "prints a key and its line); set dalle.auth.enabled=false only where the gateway is private");
        }
        try {
            load();
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("dalle.auth.api-keys-file " + file + ": " + e.getMessage(), e);
        }
        LOG.info("gateway: authentication on, " + keys.size() + " API key(s) from " + file);
    }

    /** Whether calls need a key. */
    public boolean enabled() {
        return enabled;
    }

    /**
     * The tenant of the key in an {@code Authorization} header value; null with authentication off.
     *
     * @throws Unauthenticated when the header is missing, not a bearer key, or the key is unknown
     */
    public String tenant(String authorization) {
        if (!enabled) {
            return null;
        }
        if (authorization == null || authorization.isBlank()) {
            throw new Unauthenticated("missing_api_key", "You didn't provide an API key: send it in the "
                    + "Authorization header as 'Authorization: Bearer <key>'");
        }
        String a = authorization.strip();
        if (a.length() < 7 || !a.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
            throw new Unauthenticated("invalid_api_key", "The Authorization header is not 'Bearer <key>'");
        }
        String key = a.substring(7).strip();
        reloadIfChanged();
        return keys.owner(key).map(ApiKeys.Owner::tenant).orElseThrow(() -> new Unauthenticated("invalid_api_key",
                "Incorrect API key provided: " + redacted(key)));
    }

    /** OpenAI's way of naming a wrong key without repeating it: its first and last characters. */
    static String redacted(String key) {
        return key.length() <= 10 ? "****" : key.substring(0, 6) + "****" + key.substring(key.length() - 4);
    }

    private synchronized void load() throws IOException {
        FileTime modified = Files.getLastModifiedTime(file);
        keys = ApiKeys.read(file);
        loadedModified = modified;
        checkedAt = System.nanoTime();
    }

    private void reloadIfChanged() {
        if (System.nanoTime() - checkedAt < reloadNanos) {
            return;
        }
        synchronized (this) {
            if (System.nanoTime() - checkedAt < reloadNanos) {
                return;
            }
            checkedAt = System.nanoTime();
            try {
                if (!Files.getLastModifiedTime(file).equals(loadedModified)) {
                    load();
                    LOG.info("gateway: reloaded " + keys.size() + " API key(s) from " + file);
                }
            } catch (IOException | IllegalArgumentException e) {
                LOG.error("gateway: keeping the API keys read before; " + file + " does not load: " + e.getMessage());
            }
        }
    }
}
