package dalle.core.data.shapes;

import java.util.List;

/**
 * The {@link Oracle}'s judgement of an image against a caption.
 *
 * @param matches whether the image shows exactly what the caption says
 * @param reason one line for people: what was seen and, on a mismatch, what differs
 * @param query the caption as parsed
 * @param seen the objects found, left to right
 */
public record Verdict(boolean matches, String reason, CaptionQuery query, List<DetectedObject> seen) {
    public Verdict {
        seen = List.copyOf(seen);
    }
}
