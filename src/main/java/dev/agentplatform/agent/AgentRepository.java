package dev.agentplatform.agent;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where agents are kept: the port the agent feature owns, fulfilled by each store adapter (embedded SQLite,
 * Firestore) and checked by one contract test suite.
 *
 * <p>Every method throws {@link dev.agentplatform.error.StoreException} when the store cannot be reached or
 * refuses the call.
 */
public interface AgentRepository {

  void createAgent(Agent agent);

  Optional<Agent> findAgent(String agentId);

  /** The owner's agents, oldest first. */
  List<Agent> listAgents(String ownerId);

  /** The agents of every owner stored with this status (at start-up: those a stopped server left running). */
  List<Agent> agentsWithStatus(AgentStatus status);

  /** Writes the user's fields of an agent (name, instructions, model, allowed tools, updatedAt); false if there is none. */
  boolean updateSettings(Agent agent);

  /** Writes the runtime's fields of an agent (status, CLI session id, updatedAt); false if there is none. */
  boolean updateState(String agentId, AgentStatus status, String cliSessionId, Instant at);

  /** Deletes an agent's record (its events are the conversation's to delete, first); false if there was none. */
  boolean deleteAgent(String agentId);
}
