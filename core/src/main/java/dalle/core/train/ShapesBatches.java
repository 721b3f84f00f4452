package dalle.core.train;

import dalle.core.data.Example;
import dalle.core.data.shapes.ShapesDataset;
import java.util.ArrayList;
import java.util.List;

/** {@link ExampleBatches#shapes}: index-addressed, infinite, so batch {@code step} is computed directly. */
final class ShapesBatches implements ExampleBatches {

    private final ShapesDataset data;
    private long served;

    ShapesBatches(ShapesDataset data) {
        this.data = data;
    }

    @Override
    public List<Example> batch(long step, int size) {
        List<Example> out = new ArrayList<>(size);
        long first = Math.multiplyExact(step, (long) size);
        for (int i = 0; i < size; i++) {
            out.add(data.example(first + i));
        }
        served += size;
        return out;
    }

    @Override
    public String describe() {
        return "shapes:train:seed=" + data.seed() + ":resolution=" + data.resolution();
    }

    @Override
    public String summary() {
        return "data: " + describe() + ", " + served + " examples rendered this session, none skipped";
    }
}
