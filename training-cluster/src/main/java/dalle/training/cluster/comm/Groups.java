package dalle.training.cluster.comm;

/**
 * The two groups a worker belongs to (PAPER.md, "Distributed optimisation"): its machine's
 * sharding group (parameters sharded, gradients reduce-scattered) and its replica group — the
 * workers holding the same shard on the other machines (PowerSGD all-reduces there).
 *
 * <p>World rank {@code m·G + g} is GPU g of machine m: shard group m (rank g), replica group g (rank m).
 *
 * @param world   every worker
 * @param shard   the G workers of this machine
 * @param replica the M workers with the same local index on every machine
 */
public record Groups(Collectives world, Collectives shard, Collectives replica) {

    /** Splits {@code world} (collective: every rank calls it) into machines of {@code perMachine} workers. */
    public static Groups machines(Collectives world, int perMachine) {
        if (perMachine < 1 || world.worldSize() % perMachine != 0) {
            throw new IllegalArgumentException("world of " + world.worldSize()
                    + " workers is not a whole number of machines of " + perMachine);
        }
        int machine = world.rank() / perMachine;
        int local = world.rank() % perMachine;
        Collectives shard = world.split(machine, local);
        Collectives replica = world.split(local, machine);
        return new Groups(world, shard, replica);
    }
}
