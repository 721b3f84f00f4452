package dalle.core.data.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CaptionParserTest {

    /** Every object description: all colours x shapes x (no size, small, large). */
    private static List<ObjectQuery> allObjects() {
        List<ObjectQuery> all = new ArrayList<>();
        for (Colour c : Colour.values()) {
            for (ShapeKind s : ShapeKind.values()) {
                all.add(ObjectQuery.of(c, s));
                for (Size z : Size.values()) {
                    all.add(ObjectQuery.of(c, s, z));
                }
            }
        }
        return all;
    }

    @Test
    void everyPhrasingOfEveryObjectRoundTrips() {
        List<ObjectQuery> objects = allObjects();
        int checked = 0;
        for (int i = 0; i < objects.size(); i++) {
            ObjectQuery a = objects.get(i);
            ObjectQuery b = objects.get((i * 37 + 11) % objects.size());
            List<CaptionQuery> queries = new ArrayList<>();
            queries.add(CaptionQuery.one(a));
            queries.add(CaptionQuery.and(a, b));
            for (Relation r : Relation.values()) {
                queries.add(CaptionQuery.related(a, r, b));
            }
            for (CaptionQuery q : queries) {
                for (Phrasing p : Phrasing.values()) {
                    if (p.fits(q)) {
                        String text = p.write(q);
                        assertEquals(q, CaptionParser.parse(text), text);
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 1000, "only " + checked + " captions checked");
    }

    @Test
    void generatedCaptionsParseBackToWhatTheySay() {
        Set<Phrasing> used = EnumSet.noneOf(Phrasing.class);
        for (ShapesDataset d : List.of(ShapesDataset.train(9, 64), ShapesDataset.heldOut(9, 64))) {
            for (long i = 0; i < 2000; i++) {
                Caption c = d.caption(i);
                assertEquals(c.query(), CaptionParser.parse(c.text()), c.text());
                used.add(c.phrasing());
            }
        }
        assertEquals(EnumSet.allOf(Phrasing.class), used, "the data set uses every phrasing");
    }

    @Test
    void captionsReadTheWayTheBriefWantsThem() {
        ObjectQuery smallRedCircle = ObjectQuery.of(Colour.RED, ShapeKind.CIRCLE, Size.SMALL);
        ObjectQuery blueSquare = ObjectQuery.of(Colour.BLUE, ShapeKind.SQUARE);
        assertEquals("a small red circle", Phrasing.SINGLE_PLAIN.write(CaptionQuery.one(smallRedCircle)));
        assertEquals("one large blue square",
                Phrasing.SINGLE_ONE.write(CaptionQuery.one(ObjectQuery.of(Colour.BLUE, ShapeKind.SQUARE, Size.LARGE))));
        assertEquals("a small red circle above a blue square",
                Phrasing.RELATION_PLAIN.write(CaptionQuery.related(smallRedCircle, Relation.ABOVE, blueSquare)));
        assertEquals("there is an orange star to the left of a yellow triangle",
                Phrasing.RELATION_THERE_IS.write(CaptionQuery.related(ObjectQuery.of(Colour.ORANGE, ShapeKind.STAR),
                        Relation.LEFT_OF, ObjectQuery.of(Colour.YELLOW, ShapeKind.TRIANGLE))));
    }

    @Test
    void parsingIgnoresCaseSpacingAndAFinalFullStop() {
        CaptionQuery expected = CaptionQuery.related(ObjectQuery.of(Colour.GREEN, ShapeKind.TRIANGLE),
                Relation.LEFT_OF, ObjectQuery.of(Colour.YELLOW, ShapeKind.STAR, Size.LARGE));
        assertEquals(expected, CaptionParser.parse("  There is a Green triangle  to the left of a large yellow star."));
        assertEquals(expected, CaptionParser.parse("a green triangle left of a large yellow star"));
        assertEquals(CaptionQuery.one(ObjectQuery.of(Colour.ORANGE, ShapeKind.DIAMOND)),
                CaptionParser.parse("A picture of an orange diamond on a black background."));
    }

    @Test
    void unknownCaptionsFailNamingTheCaptionAndTheWord() {
        for (String bad : List.of("", "a red blob", "a circle", "a red circle next to a blue square",
                "two red circles", "a red circle and", "a red circle above a blue square and a green star",
                "a huge red circle")) {
            UnknownCaptionException e = assertThrows(UnknownCaptionException.class, () -> CaptionParser.parse(bad));
            assertTrue(e.getMessage().contains("\"" + bad + "\""), e.getMessage());
            assertEquals(bad, e.caption());
            assertEquals(Optional.empty(), CaptionParser.tryParse(bad));
        }
        UnknownCaptionException blob = assertThrows(UnknownCaptionException.class,
                () -> CaptionParser.parse("a red blob"));
        assertTrue(blob.getMessage().contains("expected a shape") && blob.getMessage().contains("\"blob\""),
                blob.getMessage());
    }
}
