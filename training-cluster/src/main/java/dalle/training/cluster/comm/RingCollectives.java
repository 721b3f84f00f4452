package dalle.training.cluster.comm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The ring algorithms shared by every implementation, so that results agree bit for bit: only the
 * {@link RingLink} (queues between threads, sockets between processes) differs.
 *
 * <p>All-reduce = reduce-scatter then all-gather, each {@code w − 1} steps of one chunk per link;
 * every rank sends and receives {@code 2(w−1)/w · n} floats, the bandwidth-optimal amount. The steps
 * form one chain ({@link RingLink#chain}): each sends the chunk the step before received, so a
 * transport can pipeline them.
 * Broadcast forwards the root's data along the ring in pieces of {@link #PIECE} floats, so the
 * hops overlap.
 */
abstract class RingCollectives implements Collectives {

    /** Pipelining granule of broadcast, in floats (1 MiB). */
    static final int PIECE = 1 << 18;
    /** Largest color or key of {@link #split}: float32 carries integers exactly up to 2²⁴. */
    static final int MAX_SPLIT_VALUE = 1 << 24;

    private final String groupId;
    private final int[] worldRanks;
    private final int rank;
    private int splits;

    /**
     * @param groupId    unique name of the group, the same on every member ("world", "world/0:1", …)
     * @param worldRanks the members' ranks in the world group, in this group's rank order
     * @param rank       this member's index in {@code worldRanks}
     */
    RingCollectives(String groupId, int[] worldRanks, int rank) {
        if (rank < 0 || rank >= worldRanks.length) {
            throw new IllegalArgumentException("rank " + rank + " is outside a group of " + worldRanks.length);
        }
        this.groupId = groupId;
        this.worldRanks = worldRanks.clone();
        this.rank = rank;
    }

    /** The link to this rank's ring neighbours; only called when worldSize() > 1. */
    abstract RingLink link();

    /** This member's handle on a new group (same id and members on every member of it). */
    abstract RingCollectives subgroup(String id, int[] worldRanks, int rank);

    @Override
    public final int rank() {
        return rank;
    }

    @Override
    public final int worldSize() {
        return worldRanks.length;
    }

    /** The group's name, the same on every member. */
    public final String groupId() {
        return groupId;
    }

    /** This group's member {@code r} as a rank of the world group. */
    final int worldRank(int r) {
        return worldRanks[r];
    }

    @Override
    public void allReduceSum(float[] data) {
        if (worldSize() == 1) {
            return;
        }
        List<RingStep> steps = new ArrayList<>(reduceScatterSteps(data.length));
        steps.addAll(allGatherSteps(data.length));
        link().chain(data, steps); // one chain: the all-gather's first send is the reduce-scatter's last result
    }

    @Override
    public float[] reduceScatter(float[] data) {
        float[] work = data.clone();
        reduceScatterInPlace(work);
        int n = data.length;
        int w = worldSize();
        int from = Chunks.start(n, w, rank);
        return Arrays.copyOfRange(work, from, from + Chunks.size(n, w, rank));
    }

    @Override
    public float[] allGather(float[] shard, int totalLength) {
        int w = worldSize();
        int expected = Chunks.size(totalLength, w, rank);
        if (shard.length != expected) {
            throw new IllegalArgumentException("rank " + rank + " of group '" + groupId + "': shard has "
                    + shard.length + " floats, chunk " + rank + " of " + totalLength + " among " + w + " has " + expected);
        }
        float[] out = new float[totalLength];
        System.arraycopy(shard, 0, out, Chunks.start(totalLength, w, rank), shard.length);
        allGatherInPlace(out);
        return out;
    }

    private void reduceScatterInPlace(float[] d) {
        if (worldSize() > 1) {
            link().chain(d, reduceScatterSteps(d.length));
        }
    }

    private void allGatherInPlace(float[] d) {
        if (worldSize() > 1) {
            link().chain(d, allGatherSteps(d.length));
        }
    }

    /**
     * Step s: send chunk (r−s−1), receive and add chunk (r−s−2); after w−1 steps rank r holds the sum of
     * chunk r. Each step sends the chunk the step before received.
     */
    private List<RingStep> reduceScatterSteps(int n) {
        int w = worldSize();
        List<RingStep> steps = new ArrayList<>(w - 1);
        for (int s = 0; s < w - 1; s++) {
            int out = Math.floorMod(rank - s - 1, w);
            int in = Math.floorMod(rank - s - 2, w);
            steps.add(new RingStep(Chunks.start(n, w, out), Chunks.size(n, w, out), Chunks.start(n, w, in),
                    Chunks.size(n, w, in), true));
        }
        return steps;
    }

    /** Step s: send chunk (r−s), receive chunk (r−s−1); rank r starts out owning chunk r. Chained like the above. */
    private List<RingStep> allGatherSteps(int n) {
        int w = worldSize();
        List<RingStep> steps = new ArrayList<>(w - 1);
        for (int s = 0; s < w - 1; s++) {
            int out = Math.floorMod(rank - s, w);
            int in = Math.floorMod(rank - s - 1, w);
            steps.add(new RingStep(Chunks.start(n, w, out), Chunks.size(n, w, out), Chunks.start(n, w, in),
                    Chunks.size(n, w, in), false));
        }
        return steps;
    }

    @Override
    public void broadcast(float[] data, int root) {
        int w = worldSize();
        if (root < 0 || root >= w) {
            throw new IllegalArgumentException("broadcast root " + root + " is outside a group of " + w);
        }
        if (w == 1 || data.length == 0) {
            return;
        }
        int hop = Math.floorMod(rank - root, w); // 0 = root, w−1 = last in the chain
        for (int off = 0; off < data.length; off += PIECE) {
            int len = Math.min(PIECE, data.length - off);
            if (hop > 0) {
                link().receive(data, off, len);
            }
            if (hop < w - 1) {
                link().send(data, off, len);
            }
        }
    }

    /** An all-reduce of one float per rank: every chunk is non-empty, so each rank waits on all others. */
    @Override
    public void barrier() {
        allReduceSum(new float[worldSize()]);
    }

    @Override
    public Collectives split(int color, int key) {
        if (color < 0 || color > MAX_SPLIT_VALUE || key < 0 || key > MAX_SPLIT_VALUE) {
            throw new IllegalArgumentException("split color " + color + " and key " + key + " must be in [0, 2^24]");
        }
        int w = worldSize();
        float[] mine = {color, key};
        float[] all = allGather(mine, 2 * w); // chunk r of 2w floats is exactly rank r's pair
        List<Integer> members = new ArrayList<>();
        for (int r = 0; r < w; r++) {
            if ((int) all[2 * r] == color) {
                members.add(r);
            }
        }
        members.sort(Comparator.<Integer>comparingInt(r -> (int) all[2 * r + 1]).thenComparingInt(r -> r));
        int[] world = new int[members.size()];
        for (int i = 0; i < world.length; i++) {
            world[i] = worldRanks[members.get(i)];
        }
        String id = groupId + "/" + (splits++) + ":" + color;
        return subgroup(id, world, members.indexOf(rank));
    }
}
