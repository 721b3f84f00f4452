package dalle.services.gateway.http;

import dalle.services.common.stage.StageException;
import dalle.services.gateway.config.GatewayConfig;
import dalle.v1.ErrorCode;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The images behind {@code response_format=url}: PNGs kept in memory under unguessable ids (256 random bits,
 * base64url), served by {@code GET /v1/images/files/{id}} until they expire.
 *
 * <p>The rule that bounds memory: an image lives {@code dalle.gateway.image-url-ttl} after it was stored, and the
 * images together hold at most {@code dalle.gateway.image-store-bytes}; storing past that drops the oldest images
 * first (their URLs then 404 before their expiry). The images of one response are stored together and never drop
 * each other; a response whose images alone exceed the bound is refused (RESOURCE_EXHAUSTED) rather than returning
 * URLs that are already gone.
 */
@Singleton
public class ImageFiles {

    /** Where the images are served; the id follows. */
    public static final String PATH = "/v1/images/files/";

    /** A stored image and the moment its URL stops working. */
    public record File(byte[] png, Instant expiresAt) {
    }

    private final Duration ttl;
    private final long maxBytes;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    /** Insertion order = expiry order (one ttl for all), so the oldest is first. */
    private final LinkedHashMap<String, File> files = new LinkedHashMap<>();
    private long bytes;

    @Inject
    public ImageFiles(GatewayConfig config) {
        this(config.gateway().imageUrlTtl(), config.gateway().imageStoreBytes(), Clock.systemUTC());
    }

    ImageFiles(Duration ttl, long maxBytes, Clock clock) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("dalle.gateway.image-url-ttl must be positive, not " + ttl);
        }
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("dalle.gateway.image-store-bytes must be positive, not " + maxBytes);
        }
        this.ttl = ttl;
        this.maxBytes = maxBytes;
        this.clock = clock;
    }

    /**
     * Keeps the PNGs of one response and returns their ids, in order.
     *
     * @throws StageException RESOURCE_EXHAUSTED when these images alone are more than the store may hold
     */
    public synchronized List<String> put(List<byte[]> pngs) {
        long size = pngs.stream().mapToLong(p -> p.length).sum();
        if (size > maxBytes) {
            throw new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED, pngs.size() + " images of " + size
                    + " bytes are more than the " + maxBytes + " bytes this gateway keeps for image URLs"
                    + " (dalle.gateway.image-store-bytes); ask for fewer or smaller images, or for b64_json");
        }
        Instant now = clock.instant();
        dropExpired(now);
        Iterator<File> oldest = files.values().iterator();
        while (bytes + size > maxBytes) {
            bytes -= oldest.next().png().length;
            oldest.remove();
        }
        Instant expires = now.plus(ttl);
        List<String> ids = new ArrayList<>(pngs.size());
        for (byte[] png : pngs) {
            String id = newId();
            files.put(id, new File(png, expires));
            bytes += png.length;
            ids.add(id);
        }
        return ids;
    }

    /** The image under {@code id} while it has not expired (nor been dropped for room); else empty. */
    public synchronized Optional<File> get(String id) {
        dropExpired(clock.instant());
        return Optional.ofNullable(files.get(id));
    }

    /** Bytes held now. */
    public synchronized long bytes() {
        return bytes;
    }

    private void dropExpired(Instant now) {
        Iterator<Map.Entry<String, File>> it = files.entrySet().iterator();
        while (it.hasNext()) {
            File f = it.next().getValue();
            if (f.expiresAt().isAfter(now)) {
                return; // the rest expire later
            }
            bytes -= f.png().length;
            it.remove();
        }
    }

    private String newId() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
