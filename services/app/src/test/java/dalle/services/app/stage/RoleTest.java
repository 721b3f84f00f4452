package dalle.services.app.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoleTest {

    @Test
    void rolesParseFromACommaListOrAll() {
        assertEquals(Set.of(Role.SAMPLER), Role.parse("sampler"));
        assertEquals(Set.of(Role.TOKENIZER, Role.GATEWAY), Role.parse(" Gateway , tokenizer "));
        assertEquals(EnumSet.allOf(Role.class), Role.parse("all"));
    }

    @Test
    void anUnknownRoleIsRefusedNamingItAndTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Role.parse("sampler,painter"));
        assertTrue(e.getMessage().startsWith("dalle.roles: unknown role 'painter'"), e.getMessage());
        assertTrue(e.getMessage().contains("tokenizer, sampler, decoder, reranker, gateway"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Role.parse(" , "));
    }
}
