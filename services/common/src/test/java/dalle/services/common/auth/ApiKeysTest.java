package dalle.services.common.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {

    @TempDir
    Path dir;

    @Test
    void aKeyIsFoundByItsHashAndTheFileNeverHoldsTheKey() throws Exception {
        String a = ApiKeys.newKey();
        String b = ApiKeys.newKey();
        assertNotEquals(a, b);
        assertTrue(a.startsWith(ApiKeys.PREFIX) && a.length() == ApiKeys.PREFIX.length() + 43, a);
        Path file = dir.resolve("keys");
        Files.writeString(file, "# comment\n\n" + ApiKeys.line(a, "acme", "ci bot") + "\n"
                + ApiKeys.line(b, "globex", null) + "\n");
        assertFalse(Files.readString(file).contains(a), "only hashes are written");
        ApiKeys keys = ApiKeys.read(file);
        assertEquals(2, keys.size());
        assertEquals(new ApiKeys.Owner("acme", "ci bot"), keys.owner(a).orElseThrow());
        assertEquals("globex", keys.owner(b).orElseThrow().tenant());
        assertTrue(keys.owner(ApiKeys.newKey()).isEmpty());
        assertTrue(keys.owner("").isEmpty());
        assertTrue(keys.owner(ApiKeys.hash(a)).isEmpty(), "the hash itself is not a key");
    }

    @Test
    void aBadLineIsRefusedNamingTheFileAndTheLine() throws Exception {
        Path file = dir.resolve("keys");
        String key = ApiKeys.newKey();
        Files.writeString(file, ApiKeys.line(key, "acme", "") + "\n" + key + " acme\n");
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class, () -> ApiKeys.read(file));
        assertTrue(plain.getMessage().contains(file + " line 2") && plain.getMessage().contains("SHA-256"),
                plain.getMessage());
        Files.writeString(file, ApiKeys.hash(key) + " Acme\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ApiKeys.read(file)).getMessage()
                .contains("tenant 'Acme'"));
        Files.writeString(file, ApiKeys.hash(key) + "\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ApiKeys.read(file)).getMessage()
                .contains("line 1"));
        Files.writeString(file, ApiKeys.line(key, "a", "") + "\n" + ApiKeys.line(key, "b", "") + "\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ApiKeys.read(file)).getMessage()
                .contains("twice"));
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.line(key, "no/slash", ""));
    }
}
