package dalle.training.cluster.comm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every collective once, on seeded inputs, so that two transports can be compared bit for bit.
 * Also the main class of the TCP worker processes:
 * {@code CollectivesScenario <rank> <host:port,...> <seed> <n> <out-file>}, the secret in
 * {@value ClusterSecret#ENV}.
 */
final class CollectivesScenario {

    private CollectivesScenario() {}

    static List<float[]> run(Collectives c, long seed, int n) {
        List<float[]> out = new ArrayList<>();
        int w = c.worldSize();
        float[] x = RingReference.input(seed, c.rank(), n);
        c.allReduceSum(x);
        out.add(x);
        float[] m = RingReference.input(seed + 1, c.rank(), n);
        c.allReduceMean(m);
        out.add(m);
        out.add(c.reduceScatter(RingReference.input(seed + 2, c.rank(), n)));
        float[] whole = RingReference.input(seed + 3, 0, n);
        int from = Chunks.start(n, w, c.rank());
        out.add(c.allGather(Arrays.copyOfRange(whole, from, from + Chunks.size(n, w, c.rank())), n));
        float[] b = RingReference.input(seed + 4, c.rank(), n);
        c.broadcast(b, w - 1);
        out.add(b);
        c.barrier();
        if (w % 2 == 0) {
            Groups g = Groups.machines(c, 2);
            float[] s = RingReference.input(seed + 5, c.rank(), n);
            g.shard().allReduceSum(s);
            out.add(s);
            float[] r = RingReference.input(seed + 6, c.rank(), n);
            g.replica().allReduceSum(r);
            out.add(r);
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        int rank = Integer.parseInt(args[0]);
        List<String> addresses = List.of(args[1].split(","));
        long seed = Long.parseLong(args[2]);
        int n = Integer.parseInt(args[3]);
        TcpSettings settings = TcpSettings.of(ClusterSecret.fromEnvironment(System.getenv()))
                .withConnectTimeout(Duration.ofSeconds(30));
        try (Collectives c = TcpCollectives.connect(rank, addresses, settings)) {
            write(Path.of(args[4]), run(c, seed, n));
        }
    }

    static void write(Path file, List<float[]> arrays) throws IOException {
        int floats = arrays.stream().mapToInt(a -> a.length + 1).sum();
        ByteBuffer b = ByteBuffer.allocate(floats * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] a : arrays) {
            b.putInt(a.length);
            for (float v : a) {
                b.putInt(Float.floatToRawIntBits(v));
            }
        }
        Files.write(file, b.array());
    }

    static List<float[]> read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<float[]> out = new ArrayList<>();
        while (b.hasRemaining()) {
            float[] a = new float[b.getInt()];
            for (int i = 0; i < a.length; i++) {
                a[i] = Float.intBitsToFloat(b.getInt());
            }
            out.add(a);
        }
        return out;
    }
}
