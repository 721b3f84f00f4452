package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.auth.ApiKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dalle up's local API key: made once per data folder, kept owner-only, and its hash is what the gateway reads. */
class LocalKeysTest {

    @TempDir
    Path dir;

    @Test
    void theKeyIsMadeOnceOwnerOnlyAndTheGatewaysFileHoldsOnlyItsHash() throws Exception {
        Path data = dir.resolve("run");
        String key = LocalKeys.ensure(data);
        assertEquals(key, LocalKeys.ensure(data), "a second dalle up keeps the key");
        assertEquals(key, LocalKeys.read(data));
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(data.resolve(LocalKeys.KEY_FILE)));
        String keys = Files.readString(LocalKeys.keysFile(data));
        assertFalse(keys.contains(key), "the gateway's file holds no usable key");
        assertEquals(LocalKeys.TENANT, ApiKeys.read(LocalKeys.keysFile(data)).owner(key).orElseThrow().tenant());
        IOException none = assertThrows(IOException.class, () -> LocalKeys.read(dir.resolve("other")));
        assertTrue(none.getMessage().contains("dalle up creates it"), none.getMessage());
    }

    @Test
    void keysCreateAppendsALineTheGatewayReadsAndPrintsTheKeyOnce() throws Exception {
        Path file = dir.resolve("api-keys");
        var out = new java.io.StringWriter();
        var cmd = new picocli.CommandLine(new DalleCommand()).setOut(new java.io.PrintWriter(out));
        assertEquals(0, cmd.execute("keys", "create", "--tenant", "team-a", "--label", "ci", "--keys-file",
                file.toString()));
        assertEquals(0, cmd.execute("keys", "create", "--tenant", "team-b", "--keys-file", file.toString()));
        String printed = out.toString();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("API key \\(shown once[^:]*: (\\S+)")
                .matcher(printed);
        assertTrue(m.find(), printed);
        ApiKeys keys = ApiKeys.read(file);
        assertEquals(2, keys.size());
        assertEquals(new ApiKeys.Owner("team-a", "ci"), keys.owner(m.group(1)).orElseThrow());
        assertTrue(new picocli.CommandLine(new DalleCommand()).execute("keys", "create", "--tenant", "Bad_Name") != 0);
    }
}
