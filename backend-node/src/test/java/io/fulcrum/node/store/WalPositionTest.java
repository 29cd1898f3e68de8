package io.fulcrum.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WalPositionTest {
    @Test
    void readsAndWritesPostgresTextForm() {
        assertEquals(0x16B3748L, WalPosition.parse("0/16B3748"));
        assertEquals(0x16_B374D848L, WalPosition.parse("16/b374d848"));
        assertEquals("16/B374D848", WalPosition.format(0x16_B374D848L));
        assertEquals("FFFFFFFF/FFFFFFFF", WalPosition.format(-1L));
        assertEquals(-1L, WalPosition.parse("FFFFFFFF/FFFFFFFF"));
        assertEquals("0/0", WalPosition.format(0));
    }

    @Test
    void rejectsAnythingElse() {
        for (String bad : new String[] {"", "0", "0/", "/1", "0/123456789", "g/1", "1/2/3", " 0 / 1", "-1/0"}) {
            assertThrows(IllegalArgumentException.class, () -> WalPosition.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> WalPosition.parse(null));
    }

    @Test
    void comparesUnsigned() {
        assertTrue(WalPosition.after(WalPosition.parse("80000000/0"), WalPosition.parse("7FFFFFFF/FFFFFFFF")));
        assertFalse(WalPosition.after(5, 5));
        assertTrue(WalPosition.after(6, 5));
    }

    @Test
    void aClientPositionOnlyMovesForward() {
        ClientPosition p = new ClientPosition(10);
        assertEquals(0, p.seen());
        p.observe(30);
        p.observe(20);
        assertEquals(30, p.seen());
        assertEquals(10, p.required());
    }
}
