package dev.agentplatform.replica;

/**
 * What one replica asks the holder of an agent's lease to do for a client it serves.
 *
 * @param agentId the agent
 * @param kind what to do
 */
public record Command(String agentId, Kind kind) {

  /** The commands a holder carries out. */
  public enum Kind {
    /** Stop the agent's running turn, as the user asked. */
    INTERRUPT,
    /** The agent was deleted: stop its turn and store nothing more of it. */
    DELETED
  }
}
