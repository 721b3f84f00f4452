/**
 * The training cluster (DESIGN.md §5, PAPER.md "Mixed precision" and "Distributed optimisation"):
 * what DJL lacks for distributed training, each piece small and tested against an exact reference.
 */
package dalle.training.cluster;
