package dev.agentplatform.replica;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where the agents' leases are kept (the port the replica feature owns): Firestore for several replicas, memory
 * for the embedded store's one server. Every change is atomic (a transaction), so two replicas never both take one.
 *
 * <p>Methods throw {@link dev.agentplatform.error.StoreException} when the store cannot be reached.
 */
public interface Leases {

  /** What {@link #take} found and did. */
  record Take(Lease lease, boolean granted, boolean changedHands) {
  }

  /**
   * Takes the agent's lease for {@code me} until {@code now + ttl} with a new epoch when it is free, released,
   * expired, or held by {@code me} (this start or a previous one of the same replica id); otherwise leaves it.
   * {@code changedHands}: another start than this one held it last, so what this server remembers of the agent
   * (its seq, its warm CLI) may be out of date.
   */
  Take take(String agentId, Replica me, Instant now, Duration ttl);

  /** Extends every lease of {@code held} (agent id to epoch) that is still this start's; returns the agents lost. */
  Set<String> renew(Replica me, Map<String, Long> held, Instant now, Duration ttl);

  /** Lets the lease go if it is still {@code me}'s at {@code epoch}; the epoch stays for the next take to raise. */
  void release(String agentId, Replica me, long epoch);

  /** The agent's lease as stored, if it has one. */
  Optional<Lease> read(String agentId);

  /** Forgets the lease of a deleted agent. */
  void delete(String agentId);

  /**
   * Whether other servers may write the agents' events too, so that this server's writes must be fenced by its
   * lease; false for one server alone.
   */
  default boolean shared() {
    return true;
  }
}
