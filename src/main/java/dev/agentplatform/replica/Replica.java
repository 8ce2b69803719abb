package dev.agentplatform.replica;

/**
 * This server among the replicas: its configured id ({@code REPLICA_ID}) and the incarnation of this start, so that
 * a server started again under the same id knows the leases of its previous life for its own (that life is over).
 *
 * @param id the replica id, unique among the running servers
 * @param incarnation random for each start
 */
public record Replica(String id, String incarnation) {

  /** Names one start of one replica, as leases and commands record it. */
  public String key() {
    return id + "#" + incarnation;
  }
}
