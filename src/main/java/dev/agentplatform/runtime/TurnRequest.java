package dev.agentplatform.runtime;

import dev.agentplatform.agent.AgentSettings;

/**
 * One turn for a runtime to run.
 *
 * @param ownerId the user the agent belongs to (runtimes that isolate users, such as Docker, key on it)
 * @param resumeSessionId the CLI session to continue, or null for the agent's first turn
 */
public record TurnRequest(String ownerId, String agentId, String turnId, String text, AgentSettings settings,
    String resumeSessionId) {

  /** What {@link AgentRuntime#prepare} gets: the agent's CLI without a turn (no turn id, no text). */
  public static TurnRequest warmUp(String ownerId, String agentId, AgentSettings settings, String resumeSessionId) {
    return new TurnRequest(ownerId, agentId, null, null, settings, resumeSessionId);
  }
}
