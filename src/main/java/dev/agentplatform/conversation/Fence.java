package dev.agentplatform.conversation;

/**
 * The lease under which a server writes an agent's events: a store that keeps leases commits a batch only while
 * the agent's lease is still this one, so a server that lost it (paused, cut off) writes no duplicate and no gap.
 *
 * @param owner the holder's start, as the lease records it
 * @param epoch the lease's epoch when it was taken
 */
public record Fence(String owner, long epoch) {
}
