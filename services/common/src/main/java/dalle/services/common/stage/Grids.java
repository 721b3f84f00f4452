package dalle.services.common.stage;

import dalle.v1.CodeGrid;
import dalle.v1.ModelInfo;

/** Image-token grids on the wire ({@link CodeGrid}) and their checks against the model's sizes. */
public final class Grids {

    private Grids() {
    }

    /**
     * A grid's codes, checked against the model.
     *
     * @throws FieldException naming {@code field}.grid_size or {@code field}.codes
     */
    public static int[] codes(String field, CodeGrid grid, ModelInfo info) {
        if (grid.getGridSize() != info.getGridSize()) {
            throw new FieldException(field + ".grid_size", grid.getGridSize() + " differs from the model's "
                    + info.getGridSize());
        }
        int cells = info.getGridSize() * info.getGridSize();
        if (grid.getCodesCount() != cells) {
            throw new FieldException(field + ".codes", "has " + grid.getCodesCount() + " codes, a "
                    + info.getGridSize() + "x" + info.getGridSize() + " grid has " + cells);
        }
        int[] codes = new int[cells];
        for (int i = 0; i < cells; i++) {
            int c = grid.getCodes(i);
            if (c < 0 || c >= info.getImageVocabSize()) {
                throw new FieldException(field + ".codes[" + i + "]", c + " is outside the codebook [0, "
                        + info.getImageVocabSize() + ")");
            }
            codes[i] = c;
        }
        return codes;
    }

    /** The grid message of sampled codes. */
    public static CodeGrid grid(int[] codes, ModelInfo info) {
        CodeGrid.Builder b = CodeGrid.newBuilder().setGridSize(info.getGridSize());
        for (int c : codes) {
            b.addCodes(c);
        }
        return b.build();
    }
}
