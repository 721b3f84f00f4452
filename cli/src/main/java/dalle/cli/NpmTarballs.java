package dalle.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dalle.core.io.DurableFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Consumer;

/**
 * Downloads npm package tarballs at data-preparation time (never at run time) and checks them against a pinned
 * npm {@code dist.integrity} ({@code sha512-<base64>}): the registry's metadata must report the pinned value and
 * the downloaded bytes must hash to it. Verified tarballs are kept in a cache folder and reused; a tarball put
 * there by hand (e.g. on a machine without network) is used when it verifies.
 */
final class NpmTarballs {

    /** The public registry. */
    static final URI REGISTRY = URI.create("https://registry.npmjs.org/");

    /**
     * A package version and what its tarball must hash to.
     *
     * @param integrity npm's {@code dist.integrity}: {@code sha512-} and the base64 SHA-512 of the tarball
     */
    record Pin(String name, String version, String integrity) {
        Pin {
            if (!integrity.startsWith("sha512-")) {
                throw new IllegalArgumentException(name + "@" + version + ": only sha512 integrities are checked, got "
                        + integrity);
            }
        }

        String fileName() {
            return name.replace('/', '-') + "-" + version + ".tgz";
        }
    }

    private final URI registry;
    private final Path cache;
    private final Consumer<String> progress;
    private final HttpClient http;

    NpmTarballs(URI registry, Path cache, Consumer<String> progress) {
        this.registry = registry.toString().endsWith("/") ? registry : URI.create(registry + "/");
        this.cache = cache;
        this.progress = progress;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    /**
     * The verified tarball of {@code pin} in the cache, downloaded first when it is not there (or does not verify).
     *
     * @throws IOException with a message that says what to do: the registry cannot be reached, answers with an error,
     *     reports another integrity than the pin, or sends bytes that do not hash to it
     */
    Path fetch(Pin pin) throws IOException {
        Path file = cache.resolve(pin.fileName());
        if (Files.isRegularFile(file)) {
            String have = integrity(file);
            if (have.equals(pin.integrity())) {
                progress.accept(pin.name() + "@" + pin.version() + ": cached " + file + " (integrity verified)");
                return file;
            }
            progress.accept(pin.name() + "@" + pin.version() + ": " + file + " does not match the pinned integrity;"
                    + " downloading it again");
        }
        Files.createDirectories(cache);
        URI meta = registry.resolve(pin.name() + "/" + pin.version());
        JsonObject dist;
        try {
            dist = JsonParser.parseString(new String(get(meta).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
                    .getAsJsonObject().getAsJsonObject("dist");
        } catch (JsonParseException | IllegalStateException | NullPointerException e) {
            throw new IOException(meta + " is not npm package metadata with a \"dist\" object: " + e.getMessage(), e);
        }
        if (dist == null || dist.get("tarball") == null || dist.get("integrity") == null) {
            throw new IOException(meta + " has no dist.tarball and dist.integrity");
        }
        String reported = dist.get("integrity").getAsString();
        if (!reported.equals(pin.integrity())) {
            throw new IOException("the registry reports integrity " + reported + " for " + pin.name() + "@"
                    + pin.version() + ", but this build pins " + pin.integrity() + "; refusing a changed package");
        }
        URI tarball = URI.create(dist.get("tarball").getAsString());
        Path partial = cache.resolve(pin.fileName() + ".partial");
        MessageDigest sha512 = sha512();
        HttpResponse<InputStream> response = send(tarball);
        long length = response.headers().firstValueAsLong("content-length").orElse(-1);
        long done = 0;
        long nextReport = 0;
        try (InputStream in = response.body(); OutputStream out = Files.newOutputStream(partial)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                sha512.update(buffer, 0, n);
                done += n;
                if (done >= nextReport) {
                    progress.accept(String.format(java.util.Locale.ROOT, "%s: %.1f%s MB", tarball, done / 1e6,
                            length > 0 ? String.format(java.util.Locale.ROOT, " of %.1f", length / 1e6) : ""));
                    nextReport = done + (16L << 20);
                }
            }
        } catch (IOException e) {
            Files.deleteIfExists(partial);
            throw new IOException("download of " + tarball + " failed after " + done + " bytes: " + e.getMessage(), e);
        }
        String got = "sha512-" + Base64.getEncoder().encodeToString(sha512.digest());
        if (!got.equals(pin.integrity())) {
            Files.deleteIfExists(partial);
            throw new IOException("checksum mismatch for " + tarball + ": expected " + pin.integrity() + ", got " + got
                    + " (" + done + " bytes); the download was deleted, nothing was prepared");
        }
        DurableFiles.move(partial, file);
        progress.accept(String.format(java.util.Locale.ROOT, "%s@%s: downloaded %.1f MB, integrity verified -> %s",
                pin.name(), pin.version(), done / 1e6, file));
        return file;
    }

    /** The npm integrity string of a file: {@code sha512-} and the base64 SHA-512. */
    static String integrity(Path file) throws IOException {
        MessageDigest md = sha512();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                md.update(buffer, 0, n);
            }
        }
        return "sha512-" + Base64.getEncoder().encodeToString(md.digest());
    }

    private InputStream get(URI uri) throws IOException {
        return send(uri).body();
    }

    private HttpResponse<InputStream> send(URI uri) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
            throw new IOException("cannot reach " + uri.getScheme() + "://" + uri.getAuthority() + " (offline?): " + e
                    + ". Preparing the data downloads the packages once; alternatively put verified tarballs into "
                    + cache, e);
        } catch (HttpTimeoutException e) {
            throw new IOException(uri + " timed out: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + uri, e);
        }
        if (response.statusCode() != 200) {
            response.body().close();
            throw new IOException(uri + " answered HTTP " + response.statusCode()
                    + (response.statusCode() == 404 ? " (no such package or version)" : ""));
        }
        return response;
    }

    private static MessageDigest sha512() {
        try {
            return MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-512", e);
        }
    }
}
